package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/scelle/scelle/collect"
)

// Uname is the running kernel's uname(2).
type Uname struct {
	Sysname    string `json:"sysname"`
	Nodename   string `json:"nodename"`
	Release    string `json:"release"`
	Version    string `json:"version"`
	Machine    string `json:"machine"`
	Domainname string `json:"domainname"`
}

// Identity names the host: for the collection record and
// live/system/identity.jsonl.
type Identity struct {
	// Live is false in dead-box mode: Hostname and MachineID then come from
	// the image's files, and the kernel's fields are empty.
	Live           bool   `json:"live"`
	Hostname       string `json:"hostname"`
	HostnameSource string `json:"hostname_source,omitempty"`
	Domainname     string `json:"domainname,omitempty"`
	MachineID      string `json:"machine_id,omitempty"`
	BootID         string `json:"boot_id,omitempty"`
	// OSRelease holds every os-release variable (ID, VERSION_ID,
	// PRETTY_NAME ...), from OSReleaseSource.
	OSRelease       map[string]string `json:"os_release,omitempty"`
	OSReleaseSource string            `json:"os_release_source,omitempty"`
	Kernel          *Uname            `json:"kernel,omitempty"`
	// DMI holds the readable /sys/class/dmi/id attributes by file name.
	DMI    map[string]string `json:"dmi,omitempty"`
	Notes  []string          `json:"notes,omitempty"`
	Errors []string          `json:"errors,omitempty"`
}

// dmiFields are the SMBIOS attributes Identify reads.
var dmiFields = []string{
	"sys_vendor", "product_name", "product_version", "product_family", "product_sku",
	"product_uuid", "product_serial",
	"board_vendor", "board_name", "board_version", "board_serial", "board_asset_tag",
	"bios_vendor", "bios_version", "bios_date", "bios_release", "ec_firmware_release",
	"chassis_vendor", "chassis_type", "chassis_version", "chassis_serial", "chassis_asset_tag",
}

// identifyWindows: a Windows host has neither /proc nor /etc. Its name
// is the computer's DNS host name (GetComputerNameEx, which os.Hostname
// calls); the rest of its identity (NetBIOS name, domain, version,
// SMBIOS) is win.identity's, in live/windows/system/identity.jsonl.
func identifyWindows(env *collect.Env) Identity {
	id := Identity{Live: env.Live}
	if !env.Live {
		id.Notes = append(id.Notes, deadBox+`: a Windows image's computer name is in its SYSTEM hive (ControlSet001\Control\ComputerName\ComputerName)`)
		return id
	}
	name, err := os.Hostname()
	if err != nil {
		id.Errors = append(id.Errors, fmt.Sprintf("GetComputerNameEx: %v", err))
	} else {
		id.Hostname, id.HostnameSource = name, "GetComputerNameEx(ComputerNamePhysicalDnsHostname)"
	}
	id.Notes = append(id.Notes, "Windows: the NetBIOS and DNS names, domain, version and SMBIOS are in live/windows/system/identity.jsonl (win.identity)")
	return id
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
var machineIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Identify returns the host's identity. It is fast and never fails: what
// cannot be read is noted in Errors.
func Identify(env *collect.Env) Identity {
	if env.TargetOS() == "windows" {
		return identifyWindows(env)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	id := Identity{Live: env.Live}
	kernel := func(rel string) string {
		v, err := readSmall(ctx, procPath(env, rel))
		if err != nil {
			id.Errors = append(id.Errors, err.Error())
		}
		return v
	}
	if env.Live {
		id.Hostname, id.HostnameSource = kernel("sys/kernel/hostname"), "/proc/sys/kernel/hostname"
		id.Domainname = kernel("sys/kernel/domainname")
		id.BootID = kernel("sys/kernel/random/boot_id")
		if id.BootID != "" && !uuidRE.MatchString(id.BootID) {
			id.Errors = append(id.Errors, fmt.Sprintf("boot_id %q is not a UUID", id.BootID))
		}
		if u, err := uname(); err != nil {
			id.Errors = append(id.Errors, err.Error())
		} else {
			id.Kernel = u
		}
		id.DMI = readDMI(ctx, env, &id)
	} else {
		id.Notes = append(id.Notes, deadBox+": hostname from /etc/hostname; no boot id, kernel or DMI")
		if b, err := readHost(ctx, env, "/etc/hostname", smallLimit); err != nil {
			id.Errors = append(id.Errors, fmt.Sprintf("/etc/hostname: %v", err))
		} else {
			id.Hostname, id.HostnameSource = firstValue(string(b)), "/etc/hostname"
		}
	}
	if b, err := readHost(ctx, env, "/etc/machine-id", smallLimit); err != nil {
		id.Errors = append(id.Errors, fmt.Sprintf("/etc/machine-id: %v", err))
	} else {
		id.MachineID = strings.TrimSpace(string(b))
		if !machineIDRE.MatchString(id.MachineID) {
			id.Notes = append(id.Notes, fmt.Sprintf("machine-id %q is not 32 hexadecimal digits", id.MachineID))
		}
	}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := readHost(ctx, env, p, smallLimit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			id.Errors = append(id.Errors, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		vars, problems := ParseOSRelease(b)
		id.OSRelease, id.OSReleaseSource = vars, p
		for _, pr := range problems {
			id.Errors = append(id.Errors, fmt.Sprintf("%s: %s", p, pr))
		}
		break
	}
	if id.OSReleaseSource == "" {
		id.Notes = append(id.Notes, "no os-release file")
	}
	return id
}

// firstValue returns the first line of a one-value configuration file
// that is neither empty nor a comment.
func firstValue(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			return l
		}
	}
	return ""
}

// readDMI reads the SMBIOS attributes; unreadable ones (serials and uuid
// are readable by root only) are noted in id.Errors.
func readDMI(ctx context.Context, env *collect.Env, id *Identity) map[string]string {
	if _, err := collect.Lstat(sysPath(env, "class/dmi/id")); errors.Is(err, fs.ErrNotExist) {
		id.Notes = append(id.Notes, "no /sys/class/dmi/id: the firmware gives no SMBIOS tables")
		return nil
	}
	dmi := map[string]string{}
	for _, f := range dmiFields {
		v, err := readSmall(ctx, sysPath(env, "class/dmi/id/"+f))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			id.Errors = append(id.Errors, fmt.Sprintf("dmi %s: %v", f, err))
		default:
			dmi[f] = v
		}
	}
	return dmi
}

type identityCollector struct{}

func (*identityCollector) Name() string         { return "system.identity" }
func (*identityCollector) Class() collect.Class { return collect.ClassSystem }

func (*identityCollector) Collect(ctx context.Context, s *collect.Session) error {
	id := Identify(s.Env)
	putJSONL(ctx, s, "identity", "/proc/sys/kernel; syscall:uname; /sys/class/dmi/id; /etc", []Identity{id})
	rels := []string{"sys/kernel/hostname", "sys/kernel/domainname", "sys/kernel/random/boot_id", "version"}
	if !s.Env.Live {
		for _, rel := range rels {
			s.Skip(procPath(s.Env, rel), collect.KindKernel, deadBox)
		}
		s.Skip(sysPath(s.Env, "class/dmi/id"), collect.KindDir, deadBox)
	} else {
		for _, rel := range rels {
			procItem(ctx, s, rel, smallLimit)
		}
		copyDMI(ctx, s)
	}
	for _, p := range []string{"/etc/hostname", "/etc/machine-id", "/var/lib/dbus/machine-id", "/etc/os-release", "/usr/lib/os-release"} {
		s.CopyFile(ctx, p, 1<<20)
	}
	return ctx.Err()
}

// copyDMI stores every regular file of /sys/class/dmi/id; the expected
// attributes that are absent are recorded as not present.
func copyDMI(ctx context.Context, s *collect.Session) {
	dir := sysPath(s.Env, "class/dmi/id")
	entries, err := listDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		s.Skip(dir, collect.KindDir, "not present: the firmware gives no SMBIOS tables")
		return
	}
	if err != nil {
		s.Fail(dir, collect.KindDir, err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue // power/, subsystem link: not attributes
		}
		seen[e.Name()] = true
		sysItem(ctx, s, "class/dmi/id/"+e.Name(), smallLimit)
	}
	for _, f := range dmiFields {
		if !seen[f] && err == nil {
			s.Skip(sysPath(s.Env, "class/dmi/id/"+f), collect.KindKernel, "not present")
		}
	}
}
