package system

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
	"golang.org/x/sys/unix"
)

func mkfifo(p string) error { return unix.Mkfifo(p, 0o600) }

func fixtureEnv(t *testing.T, live bool) *collect.Env {
	t.Helper()
	abs, err := filepath.Abs("testdata/host")
	if err != nil {
		t.Fatal(err)
	}
	return &collect.Env{Root: filepath.Join(abs, "root"), Live: live,
		Linux: collect.LinuxPaths{Proc: filepath.Join(abs, "proc"), Sys: filepath.Join(abs, "sys")}}
}

type result struct {
	env  *collect.Env
	sink *collecttest.Sink
	outs *collecttest.Outcomes
}

func runCollector(t *testing.T, c collect.Collector, env *collect.Env) result {
	t.Helper()
	r := result{env: env, sink: &collecttest.Sink{}, outs: &collecttest.Outcomes{}}
	if err := c.Collect(context.Background(), collect.NewSession(env, c, r.sink, r.outs.Add)); err != nil {
		t.Fatalf("%s: %v", c.Name(), err)
	}
	// Every outcome is complete, and every stored artifact has one.
	recorded := map[string]bool{}
	for _, o := range r.outs.All {
		if o.Collector != c.Name() || o.Class != collect.ClassSystem.String() {
			t.Errorf("outcome %+v: wrong collector or class", o)
		}
		switch o.Status {
		case collect.Collected:
		case collect.Partial, collect.Skipped, collect.Failed:
			if o.Reason == "" {
				t.Errorf("outcome %s %s without a reason", o.Source, o.Status)
			}
		default:
			t.Errorf("outcome %s: status %q", o.Source, o.Status)
		}
		if o.Path != "" {
			recorded[strings.TrimPrefix(o.Path, "data/")] = true
		}
	}
	for _, name := range r.sink.Order {
		if !recorded[name] {
			t.Errorf("%s stored without an outcome", name)
		}
	}
	return r
}

// outcome returns the one outcome for the source that is not a generated
// record, failing otherwise.
func (r result) outcome(t *testing.T, src string) collect.Outcome {
	t.Helper()
	var found []collect.Outcome
	for _, o := range r.outs.BySource(src) {
		if o.Kind != collect.KindGenerated {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("source %s: %d outcomes, want 1: %+v", src, len(found), found)
	}
	return found[0]
}

// file returns the stored artifact name, failing if absent.
func (r result) file(t *testing.T, name string) []byte {
	t.Helper()
	b, ok := r.sink.Files[name]
	if !ok {
		t.Fatalf("%s not stored; have %v", name, r.sink.Order)
	}
	return b
}

func decodeLines[T any](t *testing.T, b []byte) []T {
	t.Helper()
	var out []T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decode: %v", err)
		}
		out = append(out, v)
	}
	if !bytes.HasSuffix(b, []byte("\n")) && len(b) > 0 {
		t.Errorf("JSON Lines not newline-terminated")
	}
	return out
}

func TestKernelCollectorFixture(t *testing.T) {
	env := fixtureEnv(t, true)
	r := runCollector(t, &kernelCollector{}, env)

	// Raw and parsed are the same bytes as the fixture.
	raw, _ := os.ReadFile(filepath.Join(env.Linux.Proc, "modules"))
	if !bytes.Equal(r.file(t, "live/proc/modules"), raw) {
		t.Errorf("live/proc/modules differs from the source")
	}
	mods := decodeLines[Module](t, r.file(t, "live/system/modules.jsonl"))
	flags := map[string][]string{}
	for _, m := range mods {
		flags[m.Name] = m.Flags
		if m.Error == "" && m.InSysModule == nil {
			t.Errorf("%s: in_sys_module not set", m.Name)
		}
	}
	if !reflect.DeepEqual(flags["ghostmod"], []string{"missing_from_sys_module"}) || flags["nf_tables"] != nil ||
		!reflect.DeepEqual(flags["vboxdrv"], []string{"permanent"}) {
		t.Errorf("module flags: %v", flags)
	}
	sys := decodeLines[SysModule](t, r.file(t, "live/system/sys_modules.jsonl"))
	byName := map[string]SysModule{}
	for _, m := range sys {
		byName[m.Name] = m
	}
	if len(sys) != 6 {
		t.Errorf("%d sys modules, want 6", len(sys))
	}
	if d := byName["diamorphine"]; !reflect.DeepEqual(d.Flags, []string{"missing_from_proc_modules"}) ||
		d.InProcModules || d.Builtin || d.Taint != "OE" || d.CoreSize != "16384" {
		t.Errorf("hidden module: %+v", d)
	}
	if p := byName["printk"]; !p.Builtin || p.Flags != nil || p.InProcModules {
		t.Errorf("built-in module: %+v", p)
	}
	if n := byName["nf_tables"]; !n.InProcModules || n.Flags != nil || n.InitState != "live" || n.RefCnt != "2" {
		t.Errorf("loaded module: %+v", n)
	}
	// The hidden module's attributes are kept raw, sections included.
	if got := r.file(t, "live/sys/module/diamorphine/sections/.text"); string(got) != "0xffffffffc0b00000\n" {
		t.Errorf("hidden module .text = %q", got)
	}
	if _, ok := r.sink.Files["live/sys/module/nf_tables/initstate"]; ok {
		t.Errorf("attributes of a listed module stored raw")
	}

	taint := decodeLines[Taint](t, r.file(t, "live/system/taint.jsonl"))
	if len(taint) != 1 || taint[0].Value != 12289 || taint[0].Letters != "POE" {
		t.Errorf("taint: %+v", taint)
	}
	if got := string(r.file(t, "live/proc/cmdline")); !strings.Contains(got, "root=UUID=1234") {
		t.Errorf("cmdline = %q", got)
	}

	sc := decodeLines[Sysctl](t, r.file(t, "live/system/sysctl.jsonl"))
	if len(sc) != len(sysctlKeys) {
		t.Errorf("%d sysctl records, want %d", len(sc), len(sysctlKeys))
	}
	vals := map[string]Sysctl{}
	for _, x := range sc {
		vals[x.Key] = x
	}
	if v := vals["kernel.core_pattern"]; !v.Present || v.Value != "|/tmp/.x/backdoor %p" || v.Path != "/proc/sys/kernel/core_pattern" {
		t.Errorf("core_pattern: %+v", v)
	}
	if v := vals["kernel.printk"]; v.Value != "4\t4\t1\t7" {
		t.Errorf("printk: %+v", v)
	}
	if v := vals["kernel.yama.ptrace_scope"]; v.Value != "1" {
		t.Errorf("ptrace_scope: %+v", v)
	}
	if v := vals["kernel.modules_disabled"]; v.Present || v.Value != "" {
		t.Errorf("absent sysctl: %+v", v)
	}
	if o := r.outcome(t, filepath.Join(env.Linux.Proc, "sys/kernel/modules_disabled")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("absent sysctl outcome: %+v", o)
	}
	if got := string(r.file(t, "live/proc/sys/net/ipv4/ip_forward")); got != "1\n" {
		t.Errorf("ip_forward raw = %q", got)
	}
	if got := string(r.file(t, "live/sys/kernel/security/lockdown")); got != "none [integrity] confidentiality\n" {
		t.Errorf("lockdown raw = %q", got)
	}

	bf := decodeLines[BinfmtEntry](t, r.file(t, "live/system/binfmt_misc.jsonl"))
	if len(bf) != 3 || bf[0].Name != "evil" || bf[0].Extension != ".jpg" || bf[0].Enabled ||
		bf[1].Name != "qemu-aarch64" || bf[2].Name != "status" || !bf[2].Enabled {
		t.Errorf("binfmt: %+v", bf)
	}
	if o := r.outcome(t, filepath.Join(env.Linux.Proc, "sys/fs/binfmt_misc/register")); o.Status != collect.Skipped {
		t.Errorf("register: %+v", o)
	}

	if got := string(r.file(t, "fs/etc/ld.so.preload")); got != "/usr/lib/libevil.so\n" {
		t.Errorf("ld.so.preload = %q", got)
	}
}

func TestBinfmtAutomountNotTriggered(t *testing.T) {
	// A fixture whose binfmt_misc is an untriggered autofs mount point.
	dir := t.TempDir()
	env := fixtureEnv(t, true)
	proc := filepath.Join(dir, "proc")
	if err := os.MkdirAll(filepath.Join(proc, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(proc, "sys/fs/binfmt_misc"), 0o755); err != nil {
		t.Fatal(err)
	}
	mi := "31 22 0:29 / /proc/sys/fs/binfmt_misc rw,relatime shared:20 - autofs systemd-1 rw,fd=30,direct\n"
	if err := os.WriteFile(filepath.Join(proc, "self/mountinfo"), []byte(mi), 0o644); err != nil {
		t.Fatal(err)
	}
	env.Linux.Proc = proc
	r := runCollector(t, &kernelCollector{}, env)
	o := r.outcome(t, filepath.Join(proc, "sys/fs/binfmt_misc"))
	if o.Status != collect.Skipped || !strings.Contains(o.Reason, "automount") {
		t.Errorf("binfmt_misc outcome: %+v", o)
	}
	if _, ok := r.sink.Files["live/system/binfmt_misc.jsonl"]; ok {
		t.Errorf("binfmt_misc listed under an automount point")
	}
	// /proc/modules absent: recorded, and /sys/module is listed without flags.
	if o := r.outcome(t, filepath.Join(proc, "modules")); o.Status != collect.Skipped {
		t.Errorf("modules outcome: %+v", o)
	}
	for _, m := range decodeLines[SysModule](t, r.file(t, "live/system/sys_modules.jsonl")) {
		if m.Flags != nil || (!m.Builtin && len(m.Errors) == 0) {
			t.Errorf("without /proc/modules: %+v", m)
		}
	}
}

func TestMountsCollectorFixture(t *testing.T) {
	env := fixtureEnv(t, true)
	r := runCollector(t, &mountsCollector{}, env)
	raw, _ := os.ReadFile(filepath.Join(env.Linux.Proc, "self/mountinfo"))
	if !bytes.Equal(r.file(t, "live/proc/self/mountinfo"), raw) {
		t.Errorf("raw mountinfo differs")
	}
	ms := decodeLines[Mount](t, r.file(t, "live/system/mounts.jsonl"))
	if len(ms) != 10 || ms[6].MountPoint != "/mnt/my disk\ttab\\back" || ms[7].Flags[0] != "proc_pid_overmount" {
		t.Errorf("mounts: %+v", ms)
	}
	sw := decodeLines[Swap](t, r.file(t, "live/system/swaps.jsonl"))
	if len(sw) != 2 || sw[1].Filename != "/swap file (deleted)" {
		t.Errorf("swaps: %+v", sw)
	}
}

func TestBPFCollectorFixture(t *testing.T) {
	env := fixtureEnv(t, true)
	r := runCollector(t, &bpfCollector{}, env)
	var paths []string
	for _, e := range decodeLines[BPFEntry](t, r.file(t, "live/system/bpf.jsonl")) {
		if e.Error != "" || e.Stat == nil || !strings.HasPrefix(e.Path, e.Mount) {
			t.Errorf("entry %+v", e)
		}
		paths = append(paths, e.Path)
	}
	// /sys/fs/bpf, and the second bpf mount found in mountinfo (under the root).
	want := []string{"/run/bpf2", "/run/bpf2/pinned_map",
		"/sys/fs/bpf", "/sys/fs/bpf/evil_prog", "/sys/fs/bpf/tc", "/sys/fs/bpf/tc/globals", "/sys/fs/bpf/tc/globals/cilium_calls"}
	sort.Strings(paths)
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("bpf paths = %v, want %v", paths, want)
	}
}

func TestTimeCollectorFixture(t *testing.T) {
	env := fixtureEnv(t, true)
	r := runCollector(t, &timeCollector{}, env)
	recs := decodeLines[timeRecord](t, r.file(t, "live/system/time.jsonl"))
	if len(recs) != 1 {
		t.Fatalf("%d time records", len(recs))
	}
	tr := recs[0]
	if tr.UptimeSeconds != 12345.67 || tr.BootTime.Unix() != 1700000000 || tr.WallClock.IsZero() {
		t.Errorf("clock: %+v", tr.TimeState)
	}
	if tr.Timezone != "Europe/Paris" || tr.TimezoneSource != "/etc/localtime link target" ||
		tr.LocaltimeLink != "/usr/share/zoneinfo/Europe/Paris" || tr.EtcTimezone != "Europe/Paris" {
		t.Errorf("time zone: %+v", tr.TimeState)
	}
	if tr.RTCMode != "LOCAL" || len(tr.RTC) != 1 {
		t.Fatalf("rtc: %+v %q", tr.RTC, tr.RTCMode)
	}
	rtc := tr.RTC[0]
	if rtc.Device != "rtc0" || rtc.Name != "rtc_cmos" || rtc.Date != "2023-11-14" || rtc.Time != "22:13:20" ||
		!rtc.HCToSys || rtc.SinceEpoch == nil || *rtc.SinceEpoch != 1700000000 || rtc.SkewSeconds == nil ||
		*rtc.SkewSeconds-float64(1700000000-rtc.WallClock.Unix()) > 1 || len(rtc.Errors) != 0 {
		t.Errorf("rtc0: %+v", rtc)
	}
	if got := string(r.file(t, "live/sys/class/rtc/rtc0/since_epoch")); got != "1700000000\n" {
		t.Errorf("raw since_epoch = %q", got)
	}
	r.file(t, "live/proc/uptime")
	r.file(t, "live/proc/stat")
	if o := r.outcome(t, "/etc/localtime"); o.Status != collect.Collected || o.LinkTarget != "/usr/share/zoneinfo/Europe/Paris" {
		t.Errorf("localtime outcome: %+v", o)
	}
	if got := string(r.file(t, "fs/etc/adjtime")); !strings.HasSuffix(got, "LOCAL\n") {
		t.Errorf("adjtime = %q", got)
	}
}

func TestIdentityCollectorFixture(t *testing.T) {
	env := fixtureEnv(t, true)
	r := runCollector(t, &identityCollector{}, env)
	ids := decodeLines[Identity](t, r.file(t, "live/system/identity.jsonl"))
	if len(ids) != 1 {
		t.Fatalf("%d identity records", len(ids))
	}
	id := ids[0]
	if id.Hostname != "fixture-host" || id.Domainname != "(none)" || id.BootID != "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" ||
		id.MachineID != "0123456789abcdef0123456789abcdef" || id.OSRelease["ID"] != "fixture" ||
		id.OSRelease["VERSION_ID"] != "1.0" || id.OSReleaseSource != "/etc/os-release" {
		t.Errorf("identity: %+v", id)
	}
	wantDMI := map[string]string{"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)",
		"product_uuid": "6b1c6a5e-2d3f-4e5a-9b8c-7d6e5f4a3b2c", "bios_vendor": "SeaBIOS"}
	if !reflect.DeepEqual(id.DMI, wantDMI) {
		t.Errorf("dmi = %v", id.DMI)
	}
	// The os-release line the parser refused is noted, not lost.
	if len(id.Errors) != 1 || !strings.Contains(id.Errors[0], "line 6") {
		t.Errorf("errors = %q", id.Errors)
	}
	if got := string(r.file(t, "live/sys/class/dmi/id/product_uuid")); got != wantDMI["product_uuid"]+"\n" {
		t.Errorf("raw product_uuid = %q", got)
	}
	if o := r.outcome(t, filepath.Join(env.Linux.Sys, "class/dmi/id/product_serial")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("absent dmi field: %+v", o)
	}
	if o := r.outcome(t, "/etc/os-release"); o.LinkTarget != "../usr/lib/os-release" {
		t.Errorf("os-release link: %+v", o)
	}
	r.file(t, "fs/usr/lib/os-release")
	r.file(t, "live/proc/sys/kernel/random/boot_id")
	if o := r.outcome(t, "/var/lib/dbus/machine-id"); o.Status != collect.Skipped {
		t.Errorf("absent dbus machine-id: %+v", o)
	}
}

func TestDmesgCollectorFixture(t *testing.T) {
	env := fixtureEnv(t, true)
	r := runCollector(t, &dmesgCollector{path: "testdata/kmsg"}, env)
	raw, _ := os.ReadFile("testdata/kmsg")
	if !bytes.Equal(r.file(t, "live/dev/kmsg"), raw) {
		t.Errorf("raw kmsg differs")
	}
	recs := decodeLines[KmsgRecord](t, r.file(t, "live/system/dmesg.jsonl"))
	if len(recs) != 7 || recs[2].Dict["SUBSYSTEM"] != "usb" || recs[0].Time.IsZero() ||
		recs[5].Time.Sub(recs[0].Time).Seconds() != 3 {
		t.Errorf("dmesg records: %+v", recs)
	}
	// A cap stores the records read so far as partial.
	r = runCollector(t, &dmesgCollector{path: "testdata/kmsg", limit: 10}, env)
	if o := r.outcome(t, "testdata/kmsg"); o.Status != collect.Partial || !strings.Contains(o.Reason, "10 byte cap") {
		t.Errorf("capped: %+v", o)
	}
	// Anything but the kernel log device or a regular file is refused, unopened.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	r = runCollector(t, &dmesgCollector{path: fifo}, env)
	if o := r.outcome(t, fifo); o.Status != collect.Failed || !strings.Contains(o.Reason, "not the kernel log device") {
		t.Errorf("fifo: %+v", o)
	}
}

func TestDeadBox(t *testing.T) {
	env := fixtureEnv(t, false)
	for _, c := range Collectors() {
		r := runCollector(t, c, env)
		for name := range r.sink.Files {
			if !strings.HasPrefix(name, "fs/") && name != "live/system/identity.jsonl" {
				t.Errorf("%s stored %s in dead-box mode", c.Name(), name)
			}
		}
		for _, o := range r.outs.All {
			if o.Status == collect.Failed {
				t.Errorf("%s: failed outcome %+v", c.Name(), o)
			}
		}
		if c.Name() == "system.identity" {
			id := decodeLines[Identity](t, r.file(t, "live/system/identity.jsonl"))[0]
			if id.Live || id.Hostname != "fixture-disk-name" || id.HostnameSource != "/etc/hostname" || id.BootID != "" ||
				id.Kernel != nil || id.DMI != nil || id.OSRelease["ID"] != "fixture" || len(id.Notes) == 0 {
				t.Errorf("dead-box identity: %+v", id)
			}
		}
		if c.Name() == "system.kernel" {
			r.file(t, "fs/etc/ld.so.preload")
			if o := r.outcome(t, filepath.Join(env.Linux.Proc, "modules")); o.Status != collect.Skipped || o.Reason != deadBox {
				t.Errorf("dead-box modules: %+v", o)
			}
		}
	}
	ts := Clock(env)
	if ts.Live || !ts.WallClock.IsZero() || ts.NTP != nil || ts.UptimeSeconds != 0 || ts.Timezone != "Europe/Paris" || len(ts.Notes) == 0 {
		t.Errorf("dead-box clock: %+v", ts)
	}
}
