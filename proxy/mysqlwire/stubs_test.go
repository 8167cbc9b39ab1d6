package mysqlwire

import (
	"testing"

	"github.com/shardgate/shardgate/topology/localcluster"
)

func testSysbenchExecutes(t *testing.T, c *localcluster.Cluster, cfg BackendConfig) { t.Skip("todo") }
