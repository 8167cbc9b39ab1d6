package router

import "errors"

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
