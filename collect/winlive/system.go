package winlive

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Clock is the single record of live/windows/system/time.jsonl: the
// host's clock as Windows reports it. Compare WallClock with the
// collection record's reference_time (scelle collect --reference-time)
// for the host clock's skew.
type Clock struct {
	WallClock     time.Time `json:"wall_clock"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// BootTime is WallClock minus the uptime (GetTickCount64, which
	// counts sleep too).
	BootTime time.Time `json:"boot_time"`
	TimeZone *TimeZone `json:"time_zone,omitempty"`
	// Adjustment is GetSystemTimeAdjustment: whether the clock is being
	// disciplined (Disabled false) and by how much per tick (100 ns).
	Adjustment *ClockAdjustment `json:"adjustment,omitempty"`
	// TimeService holds the W32Time parameters (the NTP source).
	TimeService []RegKey `json:"time_service,omitempty"`
	Errors      []string `json:"errors,omitempty"`
}

// TimeZone is GetDynamicTimeZoneInformation's answer.
type TimeZone struct {
	KeyName           string `json:"key_name"`
	StandardName      string `json:"standard_name"`
	DaylightName      string `json:"daylight_name"`
	BiasMinutes       int32  `json:"bias_minutes"` // UTC = local + bias
	StandardBias      int32  `json:"standard_bias_minutes"`
	DaylightBias      int32  `json:"daylight_bias_minutes"`
	DynamicDSTOff     bool   `json:"dynamic_daylight_time_disabled"`
	CurrentlyDaylight string `json:"current"` // standard, daylight, unknown
}

// ClockAdjustment is GetSystemTimeAdjustment's answer.
type ClockAdjustment struct {
	Adjustment100ns uint32 `json:"adjustment_100ns"`
	Increment100ns  uint32 `json:"increment_100ns"`
	Disabled        bool   `json:"disabled"`
}

// Identity is the single record of live/windows/system/identity.jsonl.
type Identity struct {
	ComputerName string `json:"computer_name"`
	DNSHostName  string `json:"dns_host_name,omitempty"`
	DNSDomain    string `json:"dns_domain,omitempty"`
	FQDN         string `json:"fqdn,omitempty"`
	// JoinName is the domain or workgroup name and JoinStatus whether
	// it is a domain ("domain"), a workgroup or nothing.
	JoinName   string `json:"join_name,omitempty"`
	JoinStatus string `json:"join_status,omitempty"`
	// OS is RtlGetVersion's answer (never shimmed) and the registry's
	// CurrentVersion values.
	OSMajor       uint32     `json:"os_major"`
	OSMinor       uint32     `json:"os_minor"`
	OSBuild       uint32     `json:"os_build"`
	OSUBR         string     `json:"os_ubr,omitempty"`
	ServicePack   string     `json:"service_pack,omitempty"`
	ProductType   uint8      `json:"product_type"` // 1 workstation, 2 domain controller, 3 server
	ProductName   string     `json:"product_name,omitempty"`
	DisplayVer    string     `json:"display_version,omitempty"`
	EditionID     string     `json:"edition_id,omitempty"`
	InstallDate   *time.Time `json:"install_date,omitempty"`
	Owner         string     `json:"registered_owner,omitempty"`
	SystemRoot    string     `json:"system_root,omitempty"`
	MachineGUID   string     `json:"machine_guid,omitempty"`
	SMBIOS        *SMBIOS    `json:"smbios,omitempty"`
	ProcessorArch string     `json:"processor_architecture,omitempty"`
	Errors        []string   `json:"errors,omitempty"`
}

// WTSSession is one record of live/windows/system/wts-sessions.jsonl.
type WTSSession struct {
	SessionID uint32 `json:"session_id"`
	Station   string `json:"station"`
	State     string `json:"state"`
	User      string `json:"user,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Client    string `json:"client,omitempty"`
}

var wtsStates = []string{"active", "connected", "connect-query", "shadow", "disconnected", "idle", "listen", "reset", "down", "init"}

func wtsState(v uint32) string {
	if v < uint32(len(wtsStates)) {
		return wtsStates[v]
	}
	return fmt.Sprintf("state(%d)", v)
}

// LogonSession is one record of live/windows/system/logon-sessions.jsonl:
// an LSA logon session (SECURITY_LOGON_SESSION_DATA).
type LogonSession struct {
	LogonID    string     `json:"logon_id"` // the LUID, hex
	User       string     `json:"user"`
	Domain     string     `json:"domain"`
	AuthPkg    string     `json:"authentication_package"`
	LogonType  uint32     `json:"logon_type"`
	LogonKind  string     `json:"logon_type_name"`
	SessionID  uint32     `json:"session_id"`
	SID        string     `json:"sid,omitempty"`
	LogonTime  *time.Time `json:"logon_time,omitempty"`
	Server     string     `json:"logon_server,omitempty"`
	DNSDomain  string     `json:"dns_domain,omitempty"`
	UPN        string     `json:"upn,omitempty"`
	ParseError string     `json:"error,omitempty"`
}

var logonTypes = map[uint32]string{0: "system", 2: "interactive", 3: "network", 4: "batch", 5: "service", 6: "proxy",
	7: "unlock", 8: "network-cleartext", 9: "new-credentials", 10: "remote-interactive", 11: "cached-interactive",
	12: "cached-remote-interactive", 13: "cached-unlock"}

// logonSessionSize is the part of the 64-bit SECURITY_LOGON_SESSION_DATA
// decoded: up to Upn.
const logonSessionSize = 136

// ReadLogonSession decodes the 64-bit SECURITY_LOGON_SESSION_DATA at
// addr in m (LsaGetLogonSessionData), its strings and SID included.
func ReadLogonSession(m Memory, addr uint64) (LogonSession, error) {
	var ls LogonSession
	b, err := m.Read(addr, logonSessionSize)
	if err != nil {
		return ls, fmt.Errorf("logon session data: %w", err)
	}
	le := binary.LittleEndian
	ls.LogonID = fmt.Sprintf("%#x", uint64(le.Uint32(b[8:]))<<32|uint64(le.Uint32(b[4:])))
	var errs []string
	str := func(off int, what string) string {
		s, _, err := decodeUnicodeString(b[off:]).read(m, 4096)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", what, err))
		}
		return s
	}
	ls.User, ls.Domain, ls.AuthPkg = str(16, "user"), str(32, "domain"), str(48, "authentication package")
	ls.LogonType, ls.SessionID = le.Uint32(b[64:]), le.Uint32(b[68:])
	ls.LogonKind = logonTypes[ls.LogonType]
	if ls.LogonKind == "" {
		ls.LogonKind = fmt.Sprintf("type(%d)", ls.LogonType)
	}
	if sid := le.Uint64(b[72:]); sid != 0 {
		if ls.SID, err = ReadSID(m, sid); err != nil {
			errs = append(errs, fmt.Sprintf("sid: %v", err))
		}
	}
	ls.LogonTime = filetime(int64(le.Uint64(b[80:])))
	ls.Server, ls.DNSDomain, ls.UPN = str(88, "logon server"), str(104, "dns domain"), str(120, "upn")
	if len(errs) > 0 {
		ls.ParseError = strings.Join(errs, "; ")
	}
	return ls, nil
}

// ReadSID decodes the SID at addr in m as text ("S-1-5-18").
func ReadSID(m Memory, addr uint64) (string, error) {
	h, err := m.Read(addr, 8)
	if err != nil {
		return "", err
	}
	if h[0] != 1 || h[1] > 15 {
		return "", fmt.Errorf("not a SID: revision %d, %d sub-authorities", h[0], h[1])
	}
	subs, err := m.Read(addr+8, 4*int(h[1]))
	if err != nil {
		return "", err
	}
	var auth uint64
	for _, c := range h[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-1-%d", auth)
	for i := 0; i < int(h[1]); i++ {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(subs[4*i:]))
	}
	return sb.String(), nil
}

// User is one record of live/windows/system/users.jsonl (NetUserEnum).
type User struct {
	Name        string     `json:"name"`
	FullName    string     `json:"full_name,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	SID         string     `json:"sid,omitempty"`
	RID         uint32     `json:"rid,omitempty"`
	Flags       uint32     `json:"flags"`
	Disabled    bool       `json:"disabled"`
	Privilege   string     `json:"privilege,omitempty"`
	LastLogon   *time.Time `json:"last_logon,omitempty"`
	NumLogons   uint32     `json:"num_logons"`
	BadPwCount  uint32     `json:"bad_password_count"`
	PasswordAge uint32     `json:"password_age_seconds"`
	Profile     string     `json:"profile,omitempty"`
	HomeDir     string     `json:"home_dir,omitempty"`
	Level       int        `json:"info_level"`
}

// Group is one record of live/windows/system/groups.jsonl.
type Group struct {
	Name    string   `json:"name"`
	Comment string   `json:"comment,omitempty"`
	Members []Member `json:"members"`
	Error   string   `json:"error,omitempty"`
}

// Member is one member of a local group.
type Member struct {
	Name  string `json:"name"` // DOMAIN\name
	SID   string `json:"sid,omitempty"`
	Usage uint32 `json:"sid_usage"`
}

// Service is one record of live/windows/system/services.jsonl.
type Service struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Type        uint32 `json:"type"`
	State       string `json:"state"`
	PID         uint32 `json:"pid,omitempty"`
	StartType   string `json:"start_type,omitempty"`
	BinaryPath  string `json:"binary_path,omitempty"`
	// ImagePath is the file BinaryPath runs, resolved; ServiceDLL the
	// svchost DLL its Parameters key names.
	ImagePath  string   `json:"image_path,omitempty"`
	ServiceDLL string   `json:"service_dll,omitempty"`
	Account    string   `json:"account,omitempty"`
	SHA256     string   `json:"sha256,omitempty"`
	DLLSHA256  string   `json:"service_dll_sha256,omitempty"`
	Errors     []string `json:"errors,omitempty"`
}

var serviceStates = []string{1: "stopped", "start-pending", "stop-pending", "running", "continue-pending", "pause-pending", "paused"}

func serviceState(v uint32) string {
	if v < uint32(len(serviceStates)) && serviceStates[v] != "" {
		return serviceStates[v]
	}
	return fmt.Sprintf("state(%d)", v)
}

var startTypes = []string{"boot", "system", "auto", "demand", "disabled"}

func startType(v uint32) string {
	if v < uint32(len(startTypes)) {
		return startTypes[v]
	}
	return fmt.Sprintf("start(%d)", v)
}

// Driver is one record of live/windows/system/drivers.jsonl.
type Driver struct {
	Base      string `json:"base"` // hex; 0 when Windows hides addresses from this account
	Path      string `json:"path"` // as GetDeviceDriverFileName gives it
	ImagePath string `json:"image_path,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Autorun is one record of live/windows/system/autoruns.jsonl: a key
// that starts programs, with its values.
type Autorun struct {
	Hive string `json:"hive"` // HKLM, or HKU\<sid>
	RegKey
}

// TPMInfo is the single record of live/windows/system/tpm.jsonl.
type TPMInfo struct {
	Present      bool              `json:"present"`
	Version      string            `json:"version,omitempty"`
	Manufacturer string            `json:"manufacturer,omitempty"`
	VendorString string            `json:"vendor_string,omitempty"`
	Firmware     string            `json:"firmware_version,omitempty"`
	Properties   map[string]uint32 `json:"properties,omitempty"`
	Error        string            `json:"error,omitempty"`
}

// ResolveImagePath returns the file a service's or driver's image path
// runs: quotes and arguments removed, \SystemRoot\, \??\ and
// system32-relative forms made absolute with systemRoot. For an
// unquoted path with spaces, the shortest prefix ending in .exe or .sys
// is taken (Windows tries the shorter ones first, which is how unquoted
// service paths are abused).
func ResolveImagePath(p, systemRoot string) string {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, `"`) {
		if i := strings.IndexByte(p[1:], '"'); i >= 0 {
			p = p[1 : 1+i]
		} else {
			p = p[1:]
		}
	} else {
		low := asciiLower(p)
		best := -1
		for _, ext := range []string{".exe", ".sys"} {
			for i := 0; ; {
				j := strings.Index(low[i:], ext)
				if j < 0 {
					break
				}
				end := i + j + len(ext)
				if end == len(p) || p[end] == ' ' {
					if best < 0 || end < best {
						best = end
					}
					break
				}
				i = end
			}
		}
		if best > 0 {
			p = p[:best]
		} else if i := strings.IndexByte(p, ' '); i > 0 {
			p = p[:i]
		}
	}
	low := asciiLower(p)
	switch {
	case strings.HasPrefix(low, `\systemroot\`):
		p = systemRoot + p[len(`\systemroot`):]
	case strings.HasPrefix(low, `%systemroot%\`):
		p = systemRoot + p[len(`%systemroot%`):]
	case strings.HasPrefix(p, `\??\`):
		p = p[4:]
	case strings.HasPrefix(low, `system32\`):
		p = systemRoot + `\` + p
	}
	return p
}

// fourCC returns the printable characters of a TPM's four-character
// value, as the TPM spells its manufacturer and vendor strings.
func fourCC(v uint32) string {
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	var out []byte
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		}
	}
	return string(out)
}

// asciiLower lowers the ASCII letters of s only, so that indexes into
// it are indexes into s (strings.ToLower changes the length of a string
// that is not UTF-8).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
