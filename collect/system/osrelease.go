package system

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ParseOSRelease parses an os-release file (os-release(5)): KEY=VALUE
// lines whose values may be quoted and escaped as in the shell. It returns
// the variables and, for each line it could not parse, a problem
// ("line 3: ..."); such lines are otherwise ignored, as the format asks.
// A later assignment of a key replaces an earlier one.
func ParseOSRelease(b []byte) (map[string]string, []string) {
	vars := map[string]string{}
	var problems []string
	for n, line := range bytes.Split(b, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if l == "" || l[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(l, "=")
		if !ok {
			problems = append(problems, fmt.Sprintf("line %d: no '='", n+1))
			continue
		}
		if !validKey(key) {
			problems = append(problems, fmt.Sprintf("line %d: invalid variable name %q", n+1, key))
			continue
		}
		v, err := shellWord(val)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s: %v", n+1, key, err))
			continue
		}
		vars[key] = v
	}
	return vars, problems
}

func validKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

var errUnterminated = errors.New("unterminated quote")

// shellWord decodes one shell word: double-quoted parts (where \" \\ \$
// and \` are escapes), single-quoted parts, and bare characters (where a
// backslash escapes the next one). Only a comment may follow the word.
func shellWord(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case '"':
			i++
			for {
				if i >= len(v) {
					return "", errUnterminated
				}
				c := v[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
					b.WriteByte(v[i+1])
					i += 2
					continue
				}
				b.WriteByte(c)
				i++
			}
		case '\'':
			j := strings.IndexByte(v[i+1:], '\'')
			if j < 0 {
				return "", errUnterminated
			}
			b.WriteString(v[i+1 : i+1+j])
			i += j + 2
		case '\\':
			if i+1 < len(v) {
				b.WriteByte(v[i+1])
			}
			i += 2
		case ' ', '\t':
			if rest := strings.TrimLeft(v[i:], " \t"); rest != "" && rest[0] != '#' {
				return "", fmt.Errorf("unquoted space before %q", rest)
			}
			return b.String(), nil
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// quoteOSRelease quotes v so that ParseOSRelease reads it back as v.
func quoteOSRelease(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if strings.IndexByte("\"\\$`", v[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}
