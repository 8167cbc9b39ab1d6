package pgserver

import (
	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/topology"
)

func yamlOf(c topology.Config) ([]byte, error) { return yaml.Marshal(c) }
