package winlive

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sys/windows/registry"
)

// rootNames name the registry roots read.
var rootNames = map[registry.Key]string{registry.LOCAL_MACHINE: "HKLM", registry.USERS: "HKU", registry.CURRENT_USER: "HKCU"}

// readKey reads a key's values (and, with subkeys, its subkeys' names).
// A key that does not exist gives ok false.
func readKey(root registry.Key, path string, subkeys bool) (RegKey, bool) {
	rk := RegKey{Key: rootNames[root] + `\` + path, Values: []RegValue{}}
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS)
	if errors.Is(err, registry.ErrNotExist) {
		return rk, false
	}
	if err != nil {
		rk.Error = err.Error()
		return rk, true
	}
	defer k.Close()
	if st, err := k.Stat(); err == nil {
		t := st.ModTime().UTC()
		rk.LastWrite = &t
	}
	names, err := k.ReadValueNames(0)
	if err != nil {
		rk.Error = fmt.Sprintf("value names: %v", err)
	}
	sort.Strings(names)
	for _, n := range names {
		rk.Values = append(rk.Values, readValue(k, n))
	}
	if subkeys {
		subs, err := k.ReadSubKeyNames(0)
		if err != nil {
			rk.Error = fmt.Sprintf("subkeys: %v", err)
		}
		sort.Strings(subs)
		rk.Subkeys = subs
	}
	return rk, true
}

func readValue(k registry.Key, name string) RegValue {
	v := RegValue{Name: name}
	n, typ, err := k.GetValue(name, nil)
	v.Type = regTypeName(typ)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	switch typ {
	case registry.SZ, registry.EXPAND_SZ:
		v.Value, _, err = k.GetStringValue(name)
	case registry.MULTI_SZ:
		v.Value, _, err = k.GetStringsValue(name)
	case registry.DWORD, registry.QWORD:
		v.Value, _, err = k.GetIntegerValue(name)
	default:
		if n > maxRegBinary {
			v.Error = fmt.Sprintf("%d bytes: first %d kept", n, maxRegBinary)
		}
		buf := make([]byte, n)
		var got int
		got, _, err = k.GetValue(name, buf)
		if got > len(buf) {
			got = len(buf)
		}
		if got > maxRegBinary {
			got = maxRegBinary
		}
		v.Value = hex.EncodeToString(buf[:got])
	}
	if err != nil {
		v.Error = err.Error()
	}
	return v
}

// value returns one value of a key as text ("" when absent).
func value(root registry.Key, path, name string) string {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if err != nil {
		return ""
	}
	defer k.Close()
	v := readValue(k, name)
	if v.Error != "" || v.Value == nil {
		return ""
	}
	return fmt.Sprint(v.Value)
}
