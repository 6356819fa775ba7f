package winlive

import "time"

// RegKey is a registry key read live: its values, and its subkeys'
// names.
type RegKey struct {
	Key       string     `json:"key"`
	LastWrite *time.Time `json:"last_write,omitempty"`
	Values    []RegValue `json:"values"`
	Subkeys   []string   `json:"subkeys,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// RegValue is one value: strings as text (REG_MULTI_SZ as a list),
// numbers as numbers, anything else as hex (at most maxRegBinary bytes).
type RegValue struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value any    `json:"value"`
	Error string `json:"error,omitempty"`
}

const maxRegBinary = 64 << 10

var regTypes = []string{"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
	"REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD"}

func regTypeName(t uint32) string {
	if int(t) < len(regTypes) {
		return regTypes[t]
	}
	return "REG_TYPE_" + itoa(uint64(t))
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
