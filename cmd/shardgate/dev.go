package main

import (
	"context"
	"fmt"
	"io"
)

func runDev(ctx context.Context, args []string, out, errOut io.Writer) int {
	fmt.Fprintln(errOut, "dev: not yet")
	return 1
}
