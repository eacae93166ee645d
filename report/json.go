package report

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/mlgate/mlgate/finding"
)

// jsonReport is the on-disk JSON shape, version SchemaVersion. Documented in
// docs/json-report.md; its JSON Schema is docs/schema/report-v1.schema.json.
// WriteJSON writes this shape by hand (see writeJSONFast); jsonReport is
// what encoding/json would write for the same report, and a test holds the
// two byte-identical.
type jsonReport struct {
	SchemaVersion string            `json:"schema_version"`
	Tool          Tool              `json:"tool"`
	Inputs        []Input           `json:"inputs"`
	Findings      []finding.Finding `json:"findings"`
	Summary       jsonSummary       `json:"summary"`
}

type jsonSummary struct {
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"`
	Suppressed int            `json:"suppressed"`
	Baselined  int            `json:"baselined"`
}

// jsonDoc builds the document WriteJSON renders: findings sorted, counts
// per severity, inputs never null.
func jsonDoc(r *Report) jsonReport {
	fs := append([]finding.Finding{}, r.Findings...)
	finding.Sort(fs)
	by := map[string]int{}
	for s, n := range finding.Counts(fs) {
		by[s.String()] = n
	}
	inputs := r.Inputs
	if inputs == nil {
		inputs = []Input{}
	}
	return jsonReport{
		SchemaVersion: SchemaVersion,
		Tool:          r.Tool,
		Inputs:        inputs,
		Findings:      fs,
		Summary: jsonSummary{
			Total:      len(fs),
			BySeverity: by,
			Suppressed: r.Suppressed,
			Baselined:  r.Baselined,
		},
	}
}

// WriteJSON renders r as an indented JSON document. A JSON report is also
// what --baseline reads back.
//
// The output is exactly what encoding/json's Encoder with a two-space
// indent writes for jsonReport, but produced directly: reports of tens of
// thousands of findings are common on large repositories, and reflection
// plus a second indenting pass over the whole document cost more than
// analyzing the files did.
func WriteJSON(w io.Writer, r *Report) error {
	doc := jsonDoc(r)
	for i := range doc.Findings {
		if _, err := doc.Findings[i].Severity.MarshalText(); err != nil {
			return &json.MarshalerError{Err: err}
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	j := jsonWriter{w: bw}
	j.raw("{\n  \"schema_version\": ")
	j.str(doc.SchemaVersion)
	j.raw(",\n  \"tool\": {\n    \"name\": ")
	j.str(doc.Tool.Name)
	j.raw(",\n    \"version\": ")
	j.str(doc.Tool.Version)
	j.raw("\n  },\n  \"inputs\": ")
	j.array(len(doc.Inputs), func(i int) { j.input(&doc.Inputs[i]) })
	j.raw(",\n  \"findings\": ")
	j.array(len(doc.Findings), func(i int) { j.finding(&doc.Findings[i]) })
	j.raw(",\n  \"summary\": {\n    \"total\": ")
	j.int(doc.Summary.Total)
	j.raw(",\n    \"by_severity\": {")
	// encoding/json writes map keys sorted; the names are fixed, so is
	// their order.
	first := true
	for _, name := range sortedSeverityNames {
		n, ok := doc.Summary.BySeverity[name]
		if !ok {
			continue
		}
		if !first {
			j.raw(",")
		}
		first = false
		j.raw("\n      ")
		j.str(name)
		j.raw(": ")
		j.int(n)
	}
	if first {
		j.raw("}")
	} else {
		j.raw("\n    }")
	}
	j.raw(",\n    \"suppressed\": ")
	j.int(doc.Summary.Suppressed)
	j.raw(",\n    \"baselined\": ")
	j.int(doc.Summary.Baselined)
	j.raw("\n  }\n}\n")
	if j.err != nil {
		return j.err
	}
	return bw.Flush()
}

// sortedSeverityNames are the severity names in byte order, the order
// encoding/json gives map keys.
var sortedSeverityNames = []string{"critical", "high", "info", "low", "medium"}

// jsonWriter appends JSON to a buffered writer and keeps the first error.
type jsonWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// array writes a top-level member's array of n objects, item writing
// each.
func (j *jsonWriter) array(n int, item func(i int)) {
	if n == 0 {
		j.raw("[]")
		return
	}
	j.raw("[")
	for i := range n {
		if i > 0 {
			j.raw(",")
		}
		j.raw("\n    ")
		item(i)
	}
	j.raw("\n  ]")
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) int(n int) {
	j.buf = strconv.AppendInt(j.buf[:0], int64(n), 10)
	if j.err == nil {
		_, j.err = j.w.Write(j.buf)
	}
}

func (j *jsonWriter) str(s string) {
	j.buf = appendJSONString(j.buf[:0], s)
	if j.err == nil {
		_, j.err = j.w.Write(j.buf)
	}
}

// field writes `,\n<indent>"key": "value"` (or without the comma for the
// first field of an object).
func (j *jsonWriter) field(first bool, indent, key, value string) {
	if !first {
		j.raw(",")
	}
	j.raw("\n")
	j.raw(indent)
	j.raw(key)
	j.raw(": ")
	j.str(value)
}

// input writes one element of inputs at the indentation of the array's
// items. Details are analyzer-specific values of any type; they go through
// encoding/json.
func (j *jsonWriter) input(in *Input) {
	const ind = "      "
	j.raw("{")
	j.field(true, ind, `"path"`, in.Path)
	j.field(false, ind, `"format"`, in.Format)
	j.field(false, ind, `"status"`, in.Status)
	if in.Error != "" {
		j.field(false, ind, `"error"`, in.Error)
	}
	if in.Details != nil {
		b, err := json.MarshalIndent(in.Details, ind, "  ")
		if err != nil {
			if j.err == nil {
				j.err = err
			}
			return
		}
		// encoding/json leaves out a value that marshals to null only
		// when it is a nil interface; a typed nil is written as null.
		j.raw(",\n" + ind + `"details": `)
		if j.err == nil {
			_, j.err = j.w.Write(b)
		}
	}
	j.raw("\n    }")
}

// finding writes one element of findings.
func (j *jsonWriter) finding(f *finding.Finding) {
	const ind = "      "
	j.raw("{")
	j.field(true, ind, `"rule_id"`, f.RuleID)
	j.field(false, ind, `"severity"`, f.Severity.String())
	j.field(false, ind, `"title"`, f.Title)
	j.field(false, ind, `"message"`, f.Message)
	j.raw(",\n" + ind + `"location": {`)
	l := &f.Location
	const lind = "        "
	first := true
	if l.File != "" {
		j.field(true, lind, `"file"`, l.File)
		first = false
	}
	for _, kv := range [2]struct {
		key string
		n   int
	}{{`"line"`, l.Line}, {`"column"`, l.Column}} {
		if kv.n == 0 {
			continue
		}
		if !first {
			j.raw(",")
		}
		first = false
		j.raw("\n" + lind + kv.key + ": ")
		j.int(kv.n)
	}
	if l.Logical != "" {
		j.field(first, lind, `"logical"`, l.Logical)
		first = false
	}
	if first {
		j.raw("}")
	} else {
		j.raw("\n" + ind + "}")
	}
	if f.Evidence != "" {
		j.field(false, ind, `"evidence"`, f.Evidence)
	}
	if f.Remediation != "" {
		j.field(false, ind, `"remediation"`, f.Remediation)
	}
	j.field(false, ind, `"fingerprint"`, f.Fingerprint)
	j.raw("\n    }")
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// by default: HTML-significant characters (<, >, &) and U+2028/U+2029 as
// \u escapes, control characters as short or \u00XX escapes, invalid
// UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
