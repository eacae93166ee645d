package cli

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/internal/rules"
)

func newRulesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rules [RULE-ID]",
		Short: "List the rules, or print one rule's documentation",
		Long: `Without an argument, list every rule with its default severity and title.
With a rule ID, print the rule's documentation, remediation and options.
Rules can be disabled, enabled or re-graded in .mlgate.yaml (see docs/configuration.md),
except run/* rules: mlgate run reads only its --policy file and flags.`,
		Example: `  mlgate rules
  mlgate rules pipeline/untrusted-code-no-isolation`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var ids []string
			for _, r := range rules.All() {
				ids = append(ids, r.ID+"\t"+r.Title)
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
				for _, r := range rules.All() {
					title := r.Title
					if r.DefaultDisabled {
						title += " (disabled by default)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, title)
				}
				return tw.Flush()
			}
			r, ok := finding.Lookup(args[0])
			if !ok {
				return usageErr("unknown rule %q; run 'mlgate rules' for the list", args[0])
			}
			fmt.Fprintf(out, "%s\n  %s\n\nSeverity: %s", r.ID, r.Title, r.Severity)
			if r.DefaultDisabled {
				fmt.Fprint(out, " (disabled by default; enable it in .mlgate.yaml)")
			}
			fmt.Fprintf(out, "\n\n%s\n\nRemediation:\n%s\n", wrap(r.Doc, 78), wrap(r.Remediation, 78))
			if len(r.Options) > 0 {
				fmt.Fprintln(out, "\nOptions (.mlgate.yaml, rules.options):")
				names := make([]string, 0, len(r.Options))
				for n := range r.Options {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(out, "  %s: %s\n", n, r.Options[n])
				}
			}
			if r.CommentSuppressible() {
				fmt.Fprintf(out, "\nSuppress one occurrence with a comment on the reported line or the line above:\n  # mlgate: ignore[%s] <reason>\n", r.ID)
			} else if strings.HasPrefix(r.ID, "run/") {
				fmt.Fprintf(out, "\nIts findings describe what a stage did: allow expected behaviour (hosts, executables,\nwritten paths) in the --policy file; 'mlgate run --learn' writes one to start from.\n.mlgate.yaml does not apply to mlgate run: this rule cannot be disabled or re-graded there.\n")
			} else {
				fmt.Fprintf(out, "\nIts findings are not in a file that can carry a comment: accept known ones with --baseline,\nor disable or re-grade the rule in .mlgate.yaml.\n")
			}
			fmt.Fprintf(out, "\nDocs: docs/rules/%s.md\n", strings.ReplaceAll(r.ID, "/", "-"))
			return nil
		},
	}
}

// wrap folds text at width on spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(s) {
		if col > 0 && col+1+len(w) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
