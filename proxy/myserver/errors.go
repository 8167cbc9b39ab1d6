package myserver

import (
	"context"
	"errors"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
)

// errRelayed marks a statement whose ERR packet a server sent and the
// client already got.
var errRelayed = errors.New("server error relayed to the client")

// relayedError is a server's ERR packet not yet sent to the client (from
// a fan-out: the first shard's error is what the client sees).
type relayedError struct{ e *mysqlwire.Error }

func (e *relayedError) Error() string { return e.e.Error() }
func (e *relayedError) Unwrap() error { return e.e }

// MySQL error codes the proxy itself answers with.
const (
	erNotSupported       = 1235 // ER_NOT_SUPPORTED_YET, 42000
	erUnknown            = 1105 // ER_UNKNOWN_ERROR, HY000
	erErrorDuringCommit  = 1180 // ER_ERROR_DURING_COMMIT, HY000
	erParse              = 1064 // ER_PARSE_ERROR, 42000
	erQueryKilled        = 1317 // ER_QUERY_INTERRUPTED, 70100
	erOutOfMemory        = 1038 // ER_OUT_OF_SORTMEMORY, HY001
	erTooManyConnections = 1040 // ER_CON_COUNT_ERROR, 08004
)

// classify maps router, merge and backend errors to a MySQL error at the
// wire edge. Messages start with "shardgate:" so a user can tell the
// proxy's refusals from the server's errors.
func classify(err error) *mysqlwire.Error {
	var me *mysqlwire.Error
	if errors.As(err, &me) {
		return me
	}
	code, state := uint16(erUnknown), "HY000"
	var be *backendError
	switch {
	case errors.As(err, &be):
		// What a client library reports for a lost server (2013) is a
		// client-side code; from a proxy the portable form is 1105/HY000.
	case errors.Is(err, router.ErrSyntax), errors.Is(err, router.ErrMultiStatement):
		code, state = erParse, "42000"
	case errors.Is(err, router.ErrUnsupported), errors.Is(err, router.ErrCrossShard),
		errors.Is(err, router.ErrMissingKey), errors.Is(err, router.ErrKeyChange),
		errors.Is(err, merge.ErrUnsorted), errors.Is(err, merge.ErrBadSpec):
		code, state = erNotSupported, "42000"
	case errors.Is(err, merge.ErrTooManyRows):
		code, state = erOutOfMemory, "HY001"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code, state = erQueryKilled, "70100"
	}
	return &mysqlwire.Error{Code: code, State: state, Message: "shardgate: " + err.Error()}
}

// defaultCollationID is utf8mb4_general_ci, what backend connections log
// in with.
const defaultCollationID = 45

// namesFor is the SET NAMES a backend connection needs to speak the
// client's character set, "" when the backend default fits. MySQL 8's
// utf8mb4_0900 collations are unknown to MariaDB: utf8mb4 it is.
func namesFor(collationID uint8) string {
	if collationID == 0 || collationID == defaultCollationID {
		return ""
	}
	c, err := charset.GetCollationByID(int(collationID))
	if err != nil || strings.Contains(c.Name, "_0900_") {
		return ""
	}
	return "SET NAMES " + c.CharsetName + " COLLATE " + c.Name
}
