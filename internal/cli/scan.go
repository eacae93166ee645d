package cli

import (
	"github.com/spf13/cobra"
	"os"
	"runtime/debug"

	"github.com/mlgate/mlgate/audit"
	"github.com/mlgate/mlgate/scan"
)

func newScanCommand() *cobra.Command {
	var f analysisFlags
	var policy string
	cmd := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Prove model artifacts safe or unsafe to load, without loading them",
		Long: `Scan model artifacts and report what loading them would run.

Formats are detected from content, not extensions: pickles of any protocol
(.pkl .pt .bin .ckpt .joblib ... or no extension), PyTorch zip and legacy
checkpoints, zip archives, NumPy .npy with object arrays, gzip and bzip2
wrappers. Pickles are decoded by a symbolic VM that never imports or calls
anything; every callable is checked against an allow-list for the artifact's
kind (PyTorch tensors, NumPy arrays, plain data), so an unknown callable is a
finding, and a dangerous one says exactly what would run and where:

  posix.system('echo pwned') at offset 37

7z, xz, zstd and tar containers and encrypted zip entries are reported as
unscannable; safetensors, GGUF and HDF5 are recognised but not analyzed yet.
Directories are walked; symlinks are followed only inside the directory.

--policy strict reports every pickle-based file, whatever it contains.
Extend the allow-list in .mlgate.yaml:
  rules: {options: {model/pickle-unknown-global: {allow: ["mypkg.MyModel"]}}}`,
		Example: `  mlgate scan model.pt
  mlgate scan ~/.cache/huggingface/hub --format json --output scan.json
  mlgate scan checkpoints/ --policy strict`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var strict bool
			switch policy {
			case "default":
			case "strict":
				strict = true
			default:
				return usageErr("--policy must be default or strict, got %q", policy)
			}
			tuneGC(200)
			return f.runWith(cmd, args, audit.Options{RequireInputs: true, Analyzers: audit.Models, Scan: scan.Options{Strict: strict}})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&policy, "policy", "default", "default, or strict: any pickle-based file is a finding")
	_ = cmd.RegisterFlagCompletionFunc("policy", cobra.FixedCompletions([]string{"default", "strict"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// tuneGC sets the garbage collector's target to percent unless the user
// set GOGC, and caps the heap at 1 GiB unless GOMEMLIMIT is set.
//
// Model scanning (200): the scanner streams, so its live heap stays a few
// megabytes, and the default target (collect when the heap doubles) makes
// it collect every few hundred microseconds on a large checkpoint.
// Collecting at 3x the live heap saves a fifth of the CPU time for about
// 10 MB more peak memory (bench/README.md; 5x saved little more and cost
// 25 MB, because the binary's own start-up heap counts as live).
//
// Pipeline analysis (400): each file's YAML tree is garbage once its rules
// ran, so the live heap is the findings plus the files in flight; on the
// 1,427-workflow corpus 5x cut CPU time by a fifth for about 20 MB more
// peak memory (bench/README.md).
//
// The memory limit keeps a pathological input from turning the factor
// into gigabytes.
func tuneGC(percent int) {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(percent)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
