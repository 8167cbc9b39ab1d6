package pgserver

import (
	"context"
)

// extended handles the extended query protocol (Parse/Bind/Describe/
// Execute/Close/Sync/Flush). Not built yet: every message up to Sync is
// answered with one error, so drivers fail clearly instead of hanging.
func (s *session) extended(_ context.Context, typ byte, _ []byte) error {
	if typ == 'H' {
		return s.w.Flush()
	}
	if typ != 'S' {
		if !s.extFailed {
			s.sendError(&clientError{code: "0A000", msg: "the extended query protocol is not supported by shardgate yet; use the simple protocol (pgx: QueryExecModeSimpleProtocol, psql works as is)"})
			s.extFailed = true
		}
		return nil
	}
	s.extFailed = false
	return s.ready()
}
