package pickle

import "io"

// Analyze decodes the pickle stream(s) in r under policy p and returns what
// would run and what is wrong with the stream. It never executes anything.
func Analyze(r io.Reader, p *Policy, lim Limits) *Result {
	c := newChecker(p)
	stats := Run(r, lim, c)
	return c.finish(stats)
}

// AnalyzeTwoPass is Analyze for a stream that can be opened twice; it
// retains only the memo entries the stream fetches (see RunTwoPass).
func AnalyzeTwoPass(open func() (io.ReadCloser, error), p *Policy, lim Limits) (*Result, error) {
	c := newChecker(p)
	stats, err := RunTwoPass(open, lim, c)
	if err != nil {
		return nil, err
	}
	return c.finish(stats), nil
}
