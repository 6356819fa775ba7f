package winlive

import (
	"encoding/binary"
	"fmt"
)

// DNSCacheEntry is one entry of the DNS client cache's table
// (DnsGetCacheDataTable): a name and a record type that the cache holds.
type DNSCacheEntry struct {
	Name     string `json:"name"`
	Type     uint16 `json:"type"`
	TypeName string `json:"type_name"`
	Flags    uint32 `json:"flags"`
	// Records are the cached answers, read back from the cache only (no
	// query leaves the host); absent when the cache gave none.
	Records []string `json:"records,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// dnsCacheEntrySize is the size of the 64-bit DNS_CACHE_ENTRY: pNext,
// pszName, wType, wDataLength, dwFlags.
const dnsCacheEntrySize = 24

// maxDNSCacheEntries bounds the list walked.
const maxDNSCacheEntries = 1 << 16

var dnsTypes = map[uint16]string{1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
	33: "SRV", 65: "HTTPS", 64: "SVCB", 255: "ANY"}

func dnsTypeName(t uint16) string {
	if n, ok := dnsTypes[t]; ok {
		return n
	}
	return fmt.Sprintf("TYPE%d", t)
}

// WalkDNSCache decodes the linked list of 64-bit DNS_CACHE_ENTRY
// structures that starts at head in m. It stops at a null next pointer,
// at an entry already seen (a loop) or after maxDNSCacheEntries, and
// returns the entries read so far with an error when the list could not
// be read to its end.
func WalkDNSCache(m Memory, head uint64) ([]DNSCacheEntry, error) {
	var out []DNSCacheEntry
	seen := map[uint64]bool{}
	for p := head; p != 0; {
		if seen[p] {
			return out, fmt.Errorf("entry at %#x: the list loops", p)
		}
		if len(out) >= maxDNSCacheEntries {
			return out, fmt.Errorf("more than %d entries", maxDNSCacheEntries)
		}
		seen[p] = true
		b, err := m.Read(p, dnsCacheEntrySize)
		if err != nil {
			return out, fmt.Errorf("entry %d: %w", len(out), err)
		}
		le := binary.LittleEndian
		e := DNSCacheEntry{Type: le.Uint16(b[16:]), Flags: le.Uint32(b[20:])}
		e.TypeName = dnsTypeName(e.Type)
		name, cut, err := readUTF16Z(m, le.Uint64(b[8:]), 1024)
		e.Name = name
		switch {
		case err != nil:
			e.Error = fmt.Sprintf("name: %v", err)
		case cut:
			e.Error = "name longer than 1024 characters: cut"
		}
		out = append(out, e)
		p = le.Uint64(b)
	}
	return out, nil
}
