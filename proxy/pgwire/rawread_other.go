//go:build !unix

package pgwire

const rawReads = false

func readFD(int, []byte) (int, error) { return 0, errAgain }
