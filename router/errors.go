package router

import (
	"errors"
	"fmt"
)

// Sentinel errors. The proxy maps them to SQLSTATE / MySQL errno at the
// wire edge; messages carry the specifics.
var (
	ErrSyntax         = errors.New("syntax error")
	ErrMultiStatement = errors.New("more than one statement")
	ErrUnsupported    = errors.New("not supported by shardgate")
	ErrCrossShard     = errors.New("transaction would span shards")
	ErrUnknownShard   = errors.New("unknown shard")
	ErrMissingKey     = errors.New("sharding key missing")
	ErrKeyChange      = errors.New("sharding key cannot be changed")
)

// ColumnsNeededError: an INSERT into a sharded table names no columns, so
// the router cannot tell which value is the key. A proxy that can learn
// the table's columns routes the statement again with
// Request.TableColumns.
type ColumnsNeededError struct{ Table, Key string }

func (e *ColumnsNeededError) Error() string {
	return fmt.Sprintf("%v: INSERT into sharded table %s must name its columns, including the key %s", ErrMissingKey, e.Table, e.Key)
}

func (e *ColumnsNeededError) Unwrap() error { return ErrMissingKey }

// ColumnsNeeded returns err as a *ColumnsNeededError, or nil. It is
// free when err is nil (a variable given to errors.As would be allocated
// on every statement).
func ColumnsNeeded(err error) *ColumnsNeededError {
	if err == nil {
		return nil
	}
	var need *ColumnsNeededError
	if errors.As(err, &need) {
		return need
	}
	return nil
}
