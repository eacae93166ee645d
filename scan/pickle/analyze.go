package pickle

import "io"

// Analyze decodes the pickle stream(s) in r under policy p and returns what
// would run and what is wrong with the stream. It never executes anything.
func Analyze(r io.Reader, p *Policy, lim Limits) *Result {
	c := newChecker(p)
	stats := Run(r, lim, c)
	return c.finish(stats)
}
