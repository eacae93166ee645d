package gguf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// withTemplates is smallSpec with the given chat templates added.
func withTemplates(kvs ...kv) []byte {
	s := smallSpec()
	s.kvs = append(s.kvs, kvs...)
	b, _ := s.build()
	return b
}

func tmplKV(key, text string) kv { return kv{key: key, typ: tStr, val: text} }

// templateProblems parses a file with one chat template and returns its
// template problems, checking their form.
func templateProblems(t *testing.T, text string) []Problem {
	t.Helper()
	b := withTemplates(tmplKV("tokenizer.chat_template", text))
	info, probs := parseBytes(b)
	valOff := int64(bytes.Index(b, append(le64(uint64(len(text))), text...)))
	var out []Problem
	for _, p := range probs {
		if p.Kind != KindTemplate {
			t.Errorf("unexpected problem %v", p)
			continue
		}
		if p.Severity != Critical || p.Offset != valOff {
			t.Errorf("problem %v, want Critical at %d", p, valOff)
		}
		checkMessage(t, p.Msg)
		out = append(out, p)
	}
	if got := info.ChatTemplates["tokenizer.chat_template"]; got != text[:min(len(text), MaxTemplateKeep)] {
		t.Errorf("kept template of %d bytes, want %d", len(got), min(len(text), MaxTemplateKeep))
	}
	return out
}

// checkMessage checks a template problem's message is printable and its
// excerpt short.
func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if !utf8.ValidString(msg) {
		t.Errorf("message not UTF-8: %q", msg)
	}
	for _, r := range msg {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("control character %U in message %q", r, msg)
		}
	}
	const sep = "CVE-2024-34359): "
	i := strings.Index(msg, sep)
	if i < 0 {
		t.Fatalf("no excerpt in %q", msg)
	}
	if ex := msg[i+len(sep):]; len(ex) > 120 || !strings.HasPrefix(ex, `"`) || !strings.HasSuffix(ex, `"`) {
		t.Errorf("excerpt %d bytes: %s", len(ex), ex)
	}
}

func patternsOf(probs []Problem) []string {
	var out []string
	for _, p := range probs {
		i := strings.Index(p.Msg, " contains ")
		j := strings.Index(p.Msg, " at template byte ")
		pat, err := strconv.Unquote(p.Msg[i+len(" contains ") : j])
		if err != nil {
			panic(err)
		}
		out = append(out, pat)
	}
	return out
}

func TestBenignTemplates(t *testing.T) {
	benign := map[string]string{
		"chatml":       chatML,
		"llama3strict": llama3Strict,
		"llama3trim":   llama3Trim,
		"tool_use":     toolUse,
		"near misses": `{{ messages|selectattr('role', 'equalto', 'user')|list|length }}{{ m|attrs }}{{ x|attribute }}` +
			`{{ 'Answer the request.' }} request. config. {{ message.content|trim|tojson }} configuration requests` +
			`{{ loop.index0 }} {{ '__' }} {{ '_x_' }} {{ raise_exception('bad role') }} evaluate execute {{ namespace(a=1) }}`,
		"empty": "",
	}
	for name, text := range benign {
		t.Run(name, func(t *testing.T) {
			if probs := templateProblems(t, text); probs != nil {
				t.Errorf("benign template flagged: %v", probs)
			}
		})
	}
}

func TestMaliciousTemplates(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{`{{ ''.__class__.__mro__[1].__subclasses__() }}`, []string{"__class__", "__mro__", "__subclasses__"}},
		{`{{ self.__init__.__globals__.__builtins__ }}`, []string{"__globals__", "__builtins__", "__init__"}},
		{`{{ cycler.__init__.__globals__.os.popen('id').read() }}`, []string{"__globals__", "__init__", "cycler", "os.popen"}},
		{`{{ lipsum.__globals__['os'].popen('id').read() }}`, []string{"__globals__", "lipsum"}},
		{`{{ joiner.__init__.__globals__ }}`, []string{"__globals__", "__init__", "joiner"}},
		{`{% set ns = namespace() %}{{ namespace.__init__ }}`, []string{"__init__", "namespace.__"}},
		{`{{ ''.__class__.__base__.__subclasses__()[140].__init__.__globals__['sys'].modules['os'].system('id') }}`,
			[]string{"__class__", "__base__", "__subclasses__", "__globals__", "__init__"}},
		{`{{ x.__bases__ }}{{ __import__('os') }}{{ x.__getattribute__('y') }}{{ x.__dict__ }}{{ f.__code__ }}{{ m.__func__ }}{{ m.__self__ }}`,
			[]string{"__bases__", "__import__", "__getattribute__", "__dict__", "__code__", "__func__", "__self__"}},
		{`{{ ''|attr('\x5f\x5fclass\x5f\x5f') }}`, []string{`\x5f`, "|attr("}},
		{`{{ '' | attr ( "\u005F\u005Fclass\u005F\u005F" ) }}`, []string{`\u005F`, "|attr("}},
		{"{{ x |\n\tattr\r\n('a') }}", []string{"|attr("}},
		{"{{ x |\u00a0attr\u3000('a') }}", []string{"|attr("}},
		{`{{ x[('\137\137class\137\137')] }}{{ x['\N{LOW LINE}'] }}{{ x['\U0000005f'] }}`, []string{`\137`, `\N{`, `\U0000005f`}},
		{`{{ config.items() }}{{ request.application.__globals__ }}`, []string{"config.", "request.", "__globals__"}},
		{`{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read() }}`,
			[]string{"__globals__", "__init__", "cycler", "self._TemplateReference", "os.popen"}},
		{`{{ subprocess.check_output('id') }}{{ eval('1') }}{{ exec('x') }}`, []string{"subprocess", "eval(", "exec("}},
		{"plain text, not even Jinja: __class__", []string{"__class__"}},
		// Each pattern once per template.
		{`{{ ''.__class__.__class__.__class__ }}{{ ''|attr('a')|attr('b') }}`, []string{"__class__", "|attr("}},
		// Control characters and invalid UTF-8 in the excerpt.
		{"\x00\x1b[31m\n\xff\xfe{{ x.__class__ }}\u202e\u2028\x7f\u0085" + strings.Repeat("é", 200), []string{"__class__"}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			probs := templateProblems(t, c.text)
			got := patternsOf(probs)
			if strings.Join(sorted(got), " ") != strings.Join(sorted(c.want), " ") {
				t.Errorf("patterns %q, want %q", got, c.want)
			}
		})
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// Payloads straddling the 64 KiB read boundary, or beyond what Info keeps,
// are found; look-alikes there are not.
func TestTemplateChunkBoundaries(t *testing.T) {
	cases := []struct {
		payload string
		want    string // "" for none
	}{
		{"{{ x.__globals__ }}", "__globals__"},
		{"{{ x | attr ('y') }}", "|attr("},
		{"{{ request.args }}", "request."},
		{"the request. Then", ""},
		{"config.", ""}, // at the very end: not an attribute access
	}
	for _, c := range cases {
		for _, pos := range []int{0, 100, bufSize - 30, bufSize - 9, bufSize - 8, bufSize - 7, bufSize - 1, bufSize, bufSize + 1, 2*bufSize - 5, 3*bufSize + 17} {
			text := strings.Repeat("a", pos) + c.payload
			if c.payload != "config." {
				text += strings.Repeat(" ", 40)
			}
			got := patternsOf(templateProblems(t, text))
			if c.want == "" && got != nil || c.want != "" && (len(got) != 1 || got[0] != c.want) {
				t.Errorf("%q at %d: got %q", c.payload, pos, got)
			}
		}
	}
	// Whitespace longer than any chunk inside |attr(.
	text := "{{ x |" + strings.Repeat(" ", 3*bufSize) + "attr" + strings.Repeat("\n", bufSize+3) + "('y') }}"
	if got := patternsOf(templateProblems(t, text)); len(got) != 1 || got[0] != "|attr(" {
		t.Errorf("long whitespace: %q", got)
	}
}

// All chat templates are scanned; Info keeps the first 16.
func TestManyTemplates(t *testing.T) {
	var kvs []kv
	for i := range 20 {
		kvs = append(kvs, tmplKV(fmt.Sprintf("tokenizer.chat_template.t%02d", i), chatML))
	}
	kvs[19].val = "{{ cycler.__init__ }}"
	kvs = append(kvs, tmplKV("tokenizer.chat_templateX", "{{ __class__ }}")) // not a template key
	info, probs := parseBytes(withTemplates(kvs...))
	if len(info.ChatTemplates) != MaxTemplates || info.ChatTemplates["tokenizer.chat_template.t15"] != chatML {
		t.Errorf("kept %d templates", len(info.ChatTemplates))
	}
	if len(probs) != 2 || !hasProblem(probs, KindTemplate, `"tokenizer.chat_template.t19" contains "cycler"`) ||
		!hasProblem(probs, KindTemplate, `"tokenizer.chat_template.t19" contains "__init__"`) {
		t.Errorf("problems %v", probs)
	}
}

// A duplicate template key cannot hide a payload from the scan.
func TestDuplicateTemplate(t *testing.T) {
	b := withTemplates(tmplKV("tokenizer.chat_template", chatML), tmplKV("tokenizer.chat_template", "{{ lipsum.__globals__ }}"))
	info, probs := parseBytes(b)
	if info.ChatTemplates["tokenizer.chat_template"] != chatML {
		t.Errorf("kept %q", info.ChatTemplates)
	}
	if !hasProblem(probs, KindMalformed, "duplicate metadata key") || !hasProblem(probs, KindTemplate, "lipsum") || len(probs) != 3 {
		t.Errorf("problems %v", probs)
	}
}
