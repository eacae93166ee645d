package pipeline

import "github.com/mlgate/mlgate/finding"

// InvalidDefinition is reported by every adapter for an input it could not
// analyze: a syntax error, an unknown key, a wrong type, a dependency cycle.
// An unparseable pipeline file may be an evasion attempt, so it is a finding
// rather than a silent skip, and the command exits 2.
var InvalidDefinition = finding.Register(&finding.Rule{
	ID:       "pipeline/invalid-definition",
	Title:    "Pipeline definition could not be analyzed",
	Severity: finding.High,
	Doc: "mlgate could not analyze a pipeline definition: it is not valid YAML, uses a key the format does " +
		"not define, gives a value of the wrong type, exceeds a size limit, or its stages depend on each other " +
		"in a cycle. Nothing in the file was audited. A definition that tools disagree about is also a way to " +
		"hide a stage from an auditor, so mlgate reports it instead of skipping it, and exits with code 2.",
	Remediation: "Fix the error at the reported position; `mlgate rules pipeline/invalid-definition` and the " +
		"format's documentation list the accepted keys.",
})
