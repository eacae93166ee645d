// Command mlgate secures machine-learning pipelines. See `mlgate help`.
package main

import (
	"os"

	"github.com/mlgate/mlgate/internal/cli"
)

func main() { os.Exit(cli.Execute()) }
