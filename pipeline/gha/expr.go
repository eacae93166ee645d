package gha

import (
	"strings"
)

// span is one ${{ }} expression inside a string: Start is the offset of
// "${{", End the offset just after "}}".
type span struct {
	Start, End int
	Inner      string
}

// maxExprs bounds the expressions read from one string.
const maxExprs = 1000

// findExprs returns the ${{ }} expressions of s. String literals ('...',
// with a doubled quote as an escaped quote) may contain "}}". An expression without its
// closing braces runs to the end of s.
func findExprs(s string) []span {
	var out []span
	for i := 0; i < len(s) && len(out) < maxExprs; {
		j := strings.Index(s[i:], "${{")
		if j < 0 {
			break
		}
		start := i + j
		k := start + 3
		inStr := false
		end := len(s)
		for k < len(s) {
			c := s[k]
			if inStr {
				if c == '\'' {
					if k+1 < len(s) && s[k+1] == '\'' {
						k += 2
						continue
					}
					inStr = false
				}
				k++
				continue
			}
			if c == '\'' {
				inStr = true
			} else if c == '}' && k+1 < len(s) && s[k+1] == '}' {
				end = k + 2
				break
			}
			k++
		}
		inner := s[start+3 : min(end, len(s))]
		if end <= len(s) && strings.HasSuffix(s[start:end], "}}") && end-start >= 5 {
			inner = s[start+3 : end-2]
		}
		out = append(out, span{Start: start, End: end, Inner: strings.TrimSpace(inner)})
		i = end
	}
	return out
}

// isIdent reports whether c can be part of an expression identifier.
func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// secretRefs returns the secret names an expression reads: secrets.NAME,
// secrets['NAME'], and "*" for the whole context (toJSON(secrets),
// secrets[expr]).
func secretRefs(inner string) []string {
	var out []string
	low := strings.ToLower(inner)
	for i := 0; ; {
		j := indexOutsideStrings(low, "secrets", i)
		if j < 0 {
			break
		}
		i = j + len("secrets")
		if j > 0 && (isIdent(low[j-1]) || low[j-1] == '.') {
			continue
		}
		if i < len(low) && isIdent(low[i]) {
			continue
		}
		switch {
		case i < len(low) && low[i] == '.':
			k := i + 1
			for k < len(low) && isIdent(low[k]) {
				k++
			}
			if k > i+1 {
				out = append(out, strings.ToUpper(inner[i+1:k]))
			}
			i = k
		case i < len(low) && low[i] == '[':
			k := strings.IndexByte(low[i:], ']')
			arg := ""
			if k > 0 {
				arg = strings.TrimSpace(inner[i+1 : i+k])
			}
			if len(arg) >= 2 && (arg[0] == '\'' && arg[len(arg)-1] == '\'') {
				out = append(out, strings.ToUpper(arg[1:len(arg)-1]))
			} else {
				out = append(out, "*")
			}
		default:
			out = append(out, "*") // the whole context: toJSON(secrets), format('{0}', secrets)
		}
	}
	return out
}

// indexOutsideStrings finds sub in s at or after from, skipping '...'
// literals.
func indexOutsideStrings(s, sub string, from int) int {
	inStr := false
	for i := max(from, 0); i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			inStr = !inStr
			continue
		}
		if inStr {
			continue
		}
		if strings.HasPrefix(s[i:], sub) {
			return i
		}
	}
	return -1
}

// Guard is what a condition rules out, as far as mlgate can tell from its
// text: for each event, whether runs that an outsider (a fork pull
// request, an outside commenter) starts are excluded. Bit i stands for
// events[i]. Conditions it does not understand exclude nothing.
type Guard uint64

// events are the trigger events a Guard distinguishes; the last is every
// other event.
var events = []string{"push", "pull_request", "pull_request_target", "pull_request_review",
	"pull_request_review_comment", "issue_comment", "issues", "discussion", "discussion_comment",
	"workflow_run", "workflow_dispatch", "workflow_call", "schedule", "release", "merge_group",
	"repository_dispatch", "create", "delete", "deployment", "label", "check_run", "check_suite",
	"status", "fork", "watch", "registry_package", "milestone", "project", "gollum", "public", "other"}

var eventBit = func() map[string]Guard {
	m := map[string]Guard{}
	for i, e := range events {
		m[e] = 1 << i
	}
	return m
}()

const allEvents = Guard(1<<31 - 1)

func bitOf(ev string) Guard {
	if b, ok := eventBit[ev]; ok {
		return b
	}
	return eventBit["other"]
}

// Excludes reports whether the guard keeps outsiders' runs of event ev
// out.
func (g Guard) Excludes(ev string) bool { return g&bitOf(ev) != 0 }

// and combines two conditions that must both hold.
func (g Guard) and(h Guard) Guard { return g | h }

// or combines two conditions of which one must hold.
func (g Guard) or(h Guard) Guard { return g & h }

var prRefEvents = bitOf("pull_request") | bitOf("pull_request_review") | bitOf("pull_request_review_comment")

// splitTop splits s on op ("&&" or "||") outside parentheses and string
// literals.
func splitTop(s, op string) []string {
	var out []string
	depth, inStr, last := 0, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			inStr = !inStr
		case inStr:
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], op):
			out = append(out, s[last:i])
			last = i + len(op)
			i += len(op) - 1
		}
	}
	return append(out, s[last:])
}

// stripParens removes parentheses that enclose the whole expression.
func stripParens(s string) string {
	for range maxGuardDepth {
		s = strings.TrimSpace(s)
		if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
			return s
		}
		depth, inStr := 0, false
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\'':
				inStr = !inStr
			case inStr:
			case c == '(':
				depth++
			case c == ')':
				depth--
				if depth == 0 && i != len(s)-1 {
					return s
				}
			}
		}
		s = s[1 : len(s)-1]
	}
	return s
}

// maxGuardDepth bounds the recursion of guardOf on nested parentheses.
const maxGuardDepth = 20

// guardOf analyses a condition (an `if:` or the left side of `&&`): what
// does it rule out?
func guardOf(cond string) Guard { return guardDepth(cond, 0, false) }

// eventGuardOf is guardOf restricted to github.event_name tests: the
// events for which the condition is false whoever starts the run.
func eventGuardOf(cond string) Guard { return guardDepth(cond, 0, true) }

func guardDepth(cond string, depth int, eventsOnly bool) Guard {
	cond = stripParens(unwrapExpr(cond))
	if depth > maxGuardDepth || cond == "" {
		return 0
	}
	if ors := splitTop(cond, "||"); len(ors) > 1 {
		g := guardDepth(ors[0], depth+1, eventsOnly)
		for _, o := range ors[1:] {
			g = g.or(guardDepth(o, depth+1, eventsOnly))
		}
		return g
	}
	if ands := splitTop(cond, "&&"); len(ands) > 1 {
		var g Guard
		for _, a := range ands {
			g = g.and(guardDepth(a, depth+1, eventsOnly))
		}
		return g
	}
	return termGuard(cond, eventsOnly)
}

// unwrapExpr removes ${{ }} around a whole condition.
func unwrapExpr(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}") && strings.Count(s, "${{") == 1 {
		return strings.TrimSpace(s[3 : len(s)-2])
	}
	return s
}

// normalize lower-cases a term and removes spaces and the quotes' kind.
func normalize(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "\"", "'")
	return strings.Join(strings.Fields(s), "")
}

// termGuard recognises one comparison or call.
func termGuard(t string, eventsOnly bool) Guard {
	n := normalize(t)
	// github.event_name == 'x' / != 'x', either order.
	for _, op := range []string{"==", "!="} {
		if l, r, ok := strings.Cut(n, op); ok {
			if r == "github.event_name" {
				l, r = r, l
			}
			if l == "github.event_name" && isLiteral(r) {
				b := bitOf(r[1 : len(r)-1])
				if op == "==" {
					return allEvents &^ b
				}
				return b
			}
		}
	}
	// contains(fromJSON('["push", ...]'), github.event_name) and
	// github.event_name in a list.
	if strings.HasPrefix(n, "contains(") && strings.HasSuffix(n, ",github.event_name)") {
		var allowed Guard
		for _, ev := range events {
			if strings.Contains(n, "'"+ev+"'") {
				allowed |= bitOf(ev)
			}
		}
		if allowed != 0 {
			return allEvents &^ allowed
		}
	}
	switch {
	case eventsOnly:
	case forkGuard(n):
		return allEvents
	case refGuard(n):
		return prRefEvents
	}
	return 0
}

func isLiteral(s string) bool { return len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' }

// forkGuard recognises conditions that keep pull requests from forks and
// outsiders out.
func forkGuard(n string) bool {
	n = strings.TrimPrefix(n, "!!")
	switch n {
	case "github.event.pull_request.head.repo.full_name==github.repository",
		"github.repository==github.event.pull_request.head.repo.full_name",
		"github.event.pull_request.head.repo.fork==false", "false==github.event.pull_request.head.repo.fork",
		"!github.event.pull_request.head.repo.fork", "github.event.pull_request.head.repo.fork!=true",
		"github.event.workflow_run.head_repository.full_name==github.repository",
		"github.repository==github.event.workflow_run.head_repository.full_name",
		"!github.event.workflow_run.head_repository.fork", "github.event.workflow_run.head_repository.fork==false",
		"github.event.pull_request.merged==true", "github.event.pull_request.merged":
		return true
	}
	// Trusted authors and actors.
	for _, ctx := range []string{"author_association", "github.actor", "github.triggering_actor", ".user.login", ".sender.login"} {
		if strings.Contains(n, ctx) && (strings.Contains(n, "==") || strings.HasPrefix(n, "contains(")) && !strings.Contains(n, "!=") {
			return true
		}
	}
	// Maintainer-applied labels.
	if strings.HasPrefix(n, "contains(github.event.pull_request.labels") || strings.Contains(n, "github.event.label.name==") ||
		strings.Contains(n, "==github.event.label.name") {
		return true
	}
	// head.repo.full_name == 'owner/repo' (a fixed, non-fork repository).
	if l, r, ok := strings.Cut(n, "=="); ok && !strings.Contains(n, "!=") {
		if r == "github.event.pull_request.head.repo.full_name" || r == "github.event.pull_request.head.repo.owner.login" {
			l, r = r, l
		}
		if (l == "github.event.pull_request.head.repo.full_name" || l == "github.event.pull_request.head.repo.owner.login") && isLiteral(r) {
			return true
		}
	}
	return false
}

// refGuard recognises conditions on github.ref/base_ref that pull_request
// runs cannot meet.
func refGuard(n string) bool {
	if l, r, ok := strings.Cut(n, "=="); ok {
		if isLiteral(l) {
			l, r = r, l
		}
		if (l == "github.ref" || l == "github.ref_name" || l == "github.ref_type") && isLiteral(r) && !strings.Contains(r, "pull") {
			return true
		}
	}
	return strings.HasPrefix(n, "startswith(github.ref,'refs/tags") || strings.HasPrefix(n, "startswith(github.ref,'refs/heads")
}
