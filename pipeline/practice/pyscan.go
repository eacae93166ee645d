package practice

import "strings"

// maxCallArgs bounds how far a call's arguments are scanned for its
// closing parenthesis.
const maxCallArgs = 4096

// maxMatches is how many occurrences of a pattern one step's script is
// examined for, so a hostile script cannot make a rule quadratic.
const maxMatches = 256

// callArgs returns the text between the '(' at text[open] and its matching
// ')', skipping quoted strings, at most maxCallArgs bytes; ok is false when
// no closing parenthesis is found within the bound.
func callArgs(text string, open int) (string, bool) {
	depth := 0
	end := min(len(text), open+maxCallArgs)
	var q byte
	for i := open; i < end; i++ {
		c := text[i]
		if q != 0 {
			if c == '\\' {
				i++
			} else if c == q {
				q = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			q = c
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return text[open+1 : i], true
			}
		}
	}
	return text[open+1 : end], false
}

// splitArgs splits call arguments at top-level commas.
func splitArgs(args string) []string {
	var out []string
	depth, start := 0, 0
	var q byte
	for i := 0; i < len(args); i++ {
		c := args[i]
		if q != 0 {
			if c == '\\' {
				i++
			} else if c == q {
				q = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			q = c
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(args[start:i]))
				start = i + 1
			}
		}
	}
	if s := strings.TrimSpace(args[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// kwarg returns the value expression of keyword argument name.
func kwarg(args []string, name string) (string, bool) {
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if ok && strings.TrimSpace(k) == name && !strings.HasPrefix(v, "=") {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// positional returns the i-th positional argument expression.
func positional(args []string, i int) (string, bool) {
	n := 0
	for _, a := range args {
		if k, _, ok := strings.Cut(a, "="); ok && isIdent(strings.TrimSpace(k)) {
			continue
		}
		if strings.HasPrefix(a, "*") {
			return "", false
		}
		if n == i {
			return a, true
		}
		n++
	}
	return "", false
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// literal returns the value of a Python string literal expression (with
// an optional r/b prefix; f-strings are not literals), or false.
func literal(expr string) (string, bool) {
	e := strings.TrimSpace(expr)
	if len(e) > 0 && (e[0] == 'r' || e[0] == 'R' || e[0] == 'b' || e[0] == 'B') {
		e = e[1:]
	}
	if len(e) < 2 {
		return "", false
	}
	q := e[0]
	if (q != '"' && q != '\'') || e[len(e)-1] != q {
		return "", false
	}
	v := e[1 : len(e)-1]
	if strings.ContainsRune(v, rune(q)) || strings.Contains(v, "\\") {
		return "", false
	}
	return v, true
}

// boolLiteral reads a Python, JSON or shell boolean: the value and whether
// it is one.
func boolLiteral(s string) (bool, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"'\`)
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no", "none":
		return false, true
	}
	return false, false
}
