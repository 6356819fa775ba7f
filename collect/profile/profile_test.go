package profile

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/bodyfile"
	"github.com/scelle/scelle/collect/collecttest"
	"github.com/scelle/scelle/collect/files"
	"github.com/scelle/scelle/collect/ntfs"
)

// stub stands for a native collector.
type stub struct{ name string }

func (s stub) Name() string                                    { return s.name }
func (s stub) Class() collect.Class                            { return collect.ClassProcess }
func (s stub) Collect(context.Context, *collect.Session) error { return nil }

func stubs() map[string]collect.Collector {
	m := map[string]collect.Collector{}
	for _, n := range collect.Natives() {
		m[n.Name] = stub{n.Name}
	}
	return m
}

// nativeNames returns the names of the registered natives.
func nativeNames() []string {
	var names []string
	for _, n := range collect.Natives() {
		names = append(names, n.Name)
	}
	return names
}

func TestLoadEmbedded(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range s.Profiles() {
		names = append(names, p.Name)
		linux := strings.Join(p.OS, " ") == "linux"
		if p.Description == "" || (linux && len(p.Bodyfile) == 0) {
			t.Errorf("profile %s: no description or bodyfile roots", p.Name)
		}
		if !linux && strings.Join(p.OS, " ") != "windows" {
			t.Errorf("profile %s: os %q", p.Name, p.OS)
		}
		// Every native collector of the profile's OS is in every embedded
		// profile.
		in := map[string]bool{}
		for _, it := range p.Items {
			in[it.Native] = true
		}
		var want []string
		for _, n := range collect.Natives() {
			if slices.Contains(n.OS, p.OS[0]) {
				want = append(want, n.Name)
			}
		}
		if linux {
			want = append(want, "bodyfile.fs")
		}
		for _, n := range want {
			if !in[n] {
				t.Errorf("profile %s lacks native %s", p.Name, n)
			}
		}
	}
	if strings.Join(names, " ") != "full triage windows-triage" {
		t.Errorf("profiles = %q", names)
	}
	for _, os := range []string{"linux", "windows"} {
		p, ok := s.profiles[DefaultFor(os)]
		if !ok || !slices.Contains(p.OS, os) {
			t.Errorf("default profile %q for %s not defined, or not for %s", DefaultFor(os), os, os)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "1B": 1, "64MiB": 64 << 20, "16 KiB": 16 << 10,
		"1GiB": 1 << 30, "2TiB": 2 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64MB", "1.5GiB", "-1", "MiB", "9999999999TiB", "64 mib"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}

const okProfiles = "profiles:\n  p: {description: d, bodyfile: [/tmp]}\n"

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"unknown key", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    profiles: [p]\n    colour: red\n",
			"a.yaml: yaml: unmarshal errors:\n  line 8: field colour not found"},
		{"bad class", okProfiles + "items:\n  - name: files.x\n    class: disc\n    paths: [/x]\n    profiles: [p]\n",
			`a.yaml:5: item "files.x": unknown volatility class "disc"`},
		{"missing class", okProfiles + "items:\n  - name: files.x\n    paths: [/x]\n    profiles: [p]\n",
			`a.yaml:4: item "files.x": class missing`},
		{"bad size", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    max_file_size: 64MB\n    profiles: [p]\n",
			`line 7: max_file_size: bad size "64MB": unknown unit "MB"`},
		{"bad size in map", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    max_file_size: {p: lots}\n    profiles: [p]\n",
			`line 7: max_file_size of p: bad size "lots"`},
		{"size for unknown profile", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    max_file_size: {q: 1}\n    profiles: [p]\n",
			`a.yaml:7: item "files.x": max_file_size: unknown profile "q"`},
		{"unknown profile", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    profiles: [p, q]\n",
			`a.yaml:7: item "files.x": unknown profile "q"`},
		{"unknown native", okProfiles + "items:\n  - native: proc.tabel\n    profiles: [p]\n",
			`a.yaml:4: item "proc.tabel": unknown native collector "proc.tabel"`},
		{"native with paths", okProfiles + "items:\n  - native: proc.table\n    paths: [/x]\n    profiles: [p]\n",
			`item "proc.table": a native item takes no paths`},
		{"native renamed", okProfiles + "items:\n  - name: proc.mine\n    native: proc.table\n    profiles: [p]\n",
			`a.yaml:5: item "proc.mine": a native item's name is its collector's name "proc.table"`},
		{"class on native", okProfiles + "items:\n  - native: proc.table\n    class: disk\n    profiles: [p]\n",
			`a.yaml:5: item "proc.table": a native collector has its own class`},
		{"relative path", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [var/log]\n    profiles: [p]\n",
			`a.yaml:6: item "files.x": path "var/log": want an absolute path or one starting with ~/`},
		{"dot dot", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/var/../etc]\n    profiles: [p]\n",
			`path "/var/../etc": empty, "." or ".." component`},
		{"bad wildcard", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [\"/var/[x\"]\n    profiles: [p]\n",
			`bad wildcard in "[x"`},
		{"bad name", okProfiles + "items:\n  - name: Files\n    class: disk\n    paths: [/x]\n    profiles: [p]\n",
			`a.yaml:4: item "Files": bad name`},
		{"no profile", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n  - name: files.y\n    class: disk\n    paths: [/y]\n    profiles: [p]\n",
			`a.yaml:4: item "files.x" is in no profile`},
		{"empty profile", okProfiles, `a.yaml:2: profile "p" has no items`},
		{"duplicate item", okProfiles + "items:\n  - native: proc.table\n    profiles: [p]\n  - native: proc.table\n    profiles: [p]\n",
			`a.yaml:6: item "proc.table" already defined at `},
		{"duplicate key", okProfiles + "items:\n  - native: proc.table\n    native: proc.hidden\n    profiles: [p]\n",
			`mapping key "native" already defined at line 4`},
		{"two documents", okProfiles + "---\nitems: []\n", "one YAML document per file"},
		{"bodyfile without roots", "profiles:\n  p: {description: d}\nitems:\n  - native: bodyfile.fs\n    profiles: [p]\n",
			`profile "p": item "bodyfile.fs" needs bodyfile roots`},
		{"bad profile name", "profiles:\n  P: {description: d}\n", `a.yaml:2: bad profile name "P"`},
		{"not a list", okProfiles + "items: {a: b}\n", "a.yaml: yaml: unmarshal errors"},
		{"unknown os", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    os: [Linux]\n    profiles: [p]\n",
			`a.yaml:7: item "files.x": os: unknown OS "Linux"`},
		{"empty os", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    os: []\n    profiles: [p]\n",
			`a.yaml:7: item "files.x": os: empty list`},
		{"os twice", okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [/x]\n    os: [linux, linux]\n    profiles: [p]\n",
			`os: linux given twice`},
		{"native on another os", "profiles:\n  p: {os: [windows]}\nitems:\n  - native: proc.table\n    os: [windows]\n    profiles: [p]\n",
			`a.yaml:5: item "proc.table": native collector proc.table collects linux hosts only, not windows`},
		{"no os in common", "profiles:\n  p: {os: [windows]}\nitems:\n  - native: proc.table\n    profiles: [p]\n",
			`a.yaml:5: item "proc.table": profile "p" is for windows, the item for linux: no OS in common`},
		{"profile os", "profiles:\n  p: {os: [dos]}\n", `a.yaml:2: profile "p": os: unknown OS "dos"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse([]source{{label: "a.yaml", data: []byte(c.file)}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to hold %q", err, c.want)
			}
		})
	}
}

func TestLoadAcrossFiles(t *testing.T) {
	_, err := parse([]source{
		{"a.yaml", []byte(okProfiles + "items:\n  - native: proc.table\n    profiles: [p]\n")},
		{"b.yaml", []byte("items:\n  - native: proc.table\n    profiles: [p]\n")},
	})
	if err == nil || err.Error() != `b.yaml:2: item "proc.table" already defined at a.yaml:4` {
		t.Errorf("duplicate across files: %v", err)
	}
	_, err = parse([]source{{"a.yaml", []byte(okProfiles)}, {"b.yaml", []byte(okProfiles)}})
	if err == nil || err.Error() != `b.yaml:2: profile "p" already defined at a.yaml:2` {
		t.Errorf("duplicate profile: %v", err)
	}
	// A profile defined in a later file may be named by an earlier one.
	s, err := parse([]source{
		{"a.yaml", []byte("items:\n  - native: proc.table\n    profiles: [p]\n")},
		{"b.yaml", []byte(okProfiles)},
	})
	if err != nil || len(s.Profiles()[0].Items) != 1 {
		t.Errorf("forward reference: %v", err)
	}
}

func TestLoadFolder(t *testing.T) {
	dir := t.TempDir()
	// Replace the temporary files item with one of another cap, and add a
	// profile that takes the process collectors by pattern.
	replaced := "items:\n  - name: files.temp\n    class: temp\n    paths: [/tmp]\n    max_file_size: 1KiB\n    profiles: [triage, full]\n" +
		"  - native: bodyfile.fs\n    profiles: [triage, full]\n"
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("20-temp.yaml", replaced)
	write("90-quick.yml", "profiles:\n  quick:\n    description: processes only\n    include: [proc.*]\n")
	write("README", "not a definition")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var quick []string
	for _, p := range s.Profiles() {
		if p.Name == "quick" {
			for _, it := range p.Items {
				quick = append(quick, it.Name)
			}
		}
	}
	if strings.Join(quick, " ") != "proc.table proc.executables proc.hidden proc.memory" {
		t.Errorf("quick = %q", quick)
	}
	for _, it := range s.Items() {
		if it.Name == "files.temp" {
			if size, set := it.MaxFileSize("full"); !set || size != 1024 || strings.Join(it.Paths, " ") != "/tmp" ||
				it.File != filepath.Join(dir, "20-temp.yaml") {
				t.Errorf("files.temp not replaced: %+v", it)
			}
		}
	}
	write("99-bad.yaml", "items: [")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "99-bad.yaml")+": yaml:") {
		t.Errorf("bad file: %v", err)
	}
}

func TestBuild(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	mkfile(t, root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n")
	env := &collect.Env{Root: root, OS: "linux"}
	if _, err := s.Build("nope", stubs(), env); err == nil || err.Error() != `unknown profile "nope" (known: full, triage, windows-triage)` {
		t.Errorf("unknown profile: %v", err)
	}
	partial := stubs()
	delete(partial, "net.dns")
	if _, err := s.Build("triage", partial, env); err == nil ||
		err.Error() != `profile triage: native collector "net.dns" is not linked in this binary` {
		t.Errorf("missing native: %v", err)
	}
	wrong := stubs()
	wrong["net.dns"] = stub{"net.resolver"}
	if _, err := s.Build("triage", wrong, env); err == nil || !strings.Contains(err.Error(), `calls itself "net.resolver"`) {
		t.Errorf("misnamed native: %v", err)
	}
	for _, c := range []struct {
		profile  string
		logs     int64
		journal  int64
		bodyfile string
	}{{"triage", 64 << 20, 256 << 20, "/tmp"}, {"full", -1, -1, "/"}} {
		cs, err := s.Build(c.profile, stubs(), env, "/media/usb/out")
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]collect.Collector{}
		for _, x := range cs {
			if _, dup := byName[x.Name()]; dup {
				t.Errorf("%s: %s built twice", c.profile, x.Name())
			}
			byName[x.Name()] = x
		}
		if byName["proc.table"] != (stub{"proc.table"}) {
			t.Errorf("%s: proc.table is %#v", c.profile, byName["proc.table"])
		}
		logs := byName["files.logs"].(*files.Tree)
		if logs.MaxFileSize != c.logs || byName["files.journal"].(*files.Tree).MaxFileSize != c.journal {
			t.Errorf("%s: caps %d, %d", c.profile, logs.MaxFileSize, byName["files.journal"].(*files.Tree).MaxFileSize)
		}
		if logs.Class() != collect.ClassDisk || byName["files.temp"].Class() != collect.ClassTemp {
			t.Errorf("%s: classes", c.profile)
		}
		if !contains(logs.Exclude, "/var/log/journal") || !contains(logs.Exclude, "/var/log/dpkg.log*/**") ||
			!contains(logs.Exclude, "/media/usb/out/**") {
			t.Errorf("%s: files.logs excludes %q", c.profile, logs.Exclude)
		}
		w := byName["bodyfile.fs"].(*bodyfile.Walker)
		if w.Base != c.profile || w.Roots[0] != c.bodyfile || w.Class() != collect.ClassTemp ||
			strings.Join(w.Exclude, " ") != "/media/usb/out" {
			t.Errorf("%s: walker %+v", c.profile, w)
		}
		hist := byName["files.users.history"].(*files.Tree)
		if !contains(hist.Patterns, "/home/alice/.bash_history") || !contains(hist.Patterns, "/root/.bash_history") {
			t.Errorf("%s: history patterns %q", c.profile, hist.Patterns)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mkfile(t *testing.T, root, p, data string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHomes(t *testing.T) {
	root := t.TempDir()
	mkfile(t, root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"+
		"alice:x:1000:1000::/home/alice/:/bin/bash\n"+
		"bob:x:1001:1001::/home/alice:/bin/bash\n"+
		"svc:x:998:998::relative:/bin/sh\n"+
		"short:x:5\n"+
		"www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n")
	got, err := Homes(&collect.Env{Root: root})
	if err != nil || strings.Join(got, " ") != "/home/alice /root /var/www" {
		t.Errorf("Homes = %q, %v", got, err)
	}
	got, err = Homes(&collect.Env{Root: t.TempDir()})
	if err == nil || strings.Join(got, " ") != "/root" {
		t.Errorf("Homes without passwd = %q, %v", got, err)
	}
}

// TestBuildCollects runs every file item of both embedded profiles over a
// fixture root that holds one file for each location of ARTIFACTS.md
// sections 4 and 5, and checks that each is stored once, by the expected
// item, under its cap.
func TestBuildCollects(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	mkfile(t, root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"+
		"alice:x:1000:1000::/home/alice:/bin/bash\n"+
		"tmpsvc:x:999:999::/tmp/svc:/usr/sbin/nologin\n"+
		"weird:x:1002:1002::/home/we*rd:/bin/sh\n")
	owner := map[string]string{
		"/tmp/x":                                          "files.temp",
		"/var/tmp/x":                                      "files.temp",
		"/dev/shm/x":                                      "files.temp",
		"/tmp/svc/.bash_history":                          "files.users.history",
		"/var/log/syslog":                                 "files.logs",
		"/var/log/syslog.2.gz":                            "files.logs",
		"/var/log/journal/m/system.journal":               "files.journal",
		"/run/log/journal/m/system.journal":               "files.journal",
		"/run/log/other.log":                              "files.runlog",
		"/etc/hostname":                                   "files.etc",
		"/etc/passwd":                                     "files.etc",
		"/usr/local/etc/app.conf":                         "files.usr-local-etc",
		"/boot/config-6.1.0-1-amd64":                      "files.boot",
		"/boot/System.map-6.1.0-1-amd64":                  "files.boot",
		"/var/spool/cron/crontabs/root":                   "files.persistence.cron",
		"/var/spool/anacron/cron.daily":                   "files.persistence.cron",
		"/var/spool/at/a0001":                             "files.persistence.cron",
		"/etc/crontab":                                    "files.persistence.cron",
		"/etc/cron.d/evil":                                "files.persistence.cron",
		"/etc/cron.hourly/evil":                           "files.persistence.cron",
		"/etc/systemd/system/evil.service":                "files.persistence.systemd",
		"/etc/systemd/system/evil.timer":                  "files.persistence.systemd",
		"/usr/lib/systemd/system/ssh.service":             "files.persistence.systemd",
		"/lib/systemd/system/cron.service":                "files.persistence.systemd",
		"/run/systemd/transient/run-u1.service":           "files.persistence.systemd",
		"/home/alice/.config/systemd/user/evil.service":   "files.users.startup",
		"/etc/init.d/evil":                                "files.persistence.init",
		"/etc/rc2.d/S01evil":                              "files.persistence.init",
		"/etc/rc.local":                                   "files.persistence.init",
		"/etc/udev/rules.d/99-evil.rules":                 "files.persistence.udev",
		"/usr/lib/udev/rules.d/60-x.rules":                "files.persistence.udev",
		"/etc/xdg/autostart/evil.desktop":                 "files.persistence.autostart",
		"/home/alice/.config/autostart/evil.desktop":      "files.users.startup",
		"/etc/profile":                                    "files.persistence.shell",
		"/etc/profile.d/evil.sh":                          "files.persistence.shell",
		"/etc/bash.bashrc":                                "files.persistence.shell",
		"/home/alice/.bashrc":                             "files.users.startup",
		"/root/.profile":                                  "files.users.startup",
		"/etc/ld.so.preload":                              "files.persistence.loader",
		"/etc/pam.d/sshd":                                 "files.persistence.pam",
		"/etc/sudoers":                                    "files.persistence.sudo",
		"/etc/sudoers.d/evil":                             "files.persistence.sudo",
		"/etc/ssh/sshd_config":                            "files.persistence.ssh",
		"/root/.ssh/authorized_keys":                      "files.users.ssh",
		"/home/alice/.ssh/authorized_keys2":               "files.users.ssh",
		"/home/alice/.ssh/known_hosts":                    "files.users.ssh",
		"/home/alice/.ssh/config":                         "files.users.ssh",
		"/home/alice/.ssh/id_ed25519.pub":                 "files.users.ssh",
		"/home/alice/.ssh/rc":                             "files.users.ssh",
		"/home/alice/.rhosts":                             "files.users.ssh",
		"/home/alice/.bash_history":                       "files.users.history",
		"/home/alice/.zsh_history":                        "files.users.history",
		"/home/alice/.sh_history":                         "files.users.history",
		"/home/alice/.local/share/fish/fish_history":      "files.users.history",
		"/home/alice/.ash_history":                        "files.users.history",
		"/home/alice/.history":                            "files.users.history",
		"/home/alice/.python_history":                     "files.users.history",
		"/home/alice/.mysql_history":                      "files.users.history",
		"/home/alice/.psql_history":                       "files.users.history",
		"/home/alice/.lesshst":                            "files.users.history",
		"/home/alice/.viminfo":                            "files.users.history",
		"/home/alice/.gitconfig":                          "files.users.misc",
		"/home/alice/.local/share/recently-used.xbel":     "files.users.misc",
		"/home/alice/.local/share/Trash/info/a.trashinfo": "files.users.misc",
		"/var/lib/dpkg/status":                            "files.packages",
		"/var/log/dpkg.log":                               "files.packages",
		"/var/log/dpkg.log.2.gz":                          "files.packages",
		"/var/log/apt/history.log":                        "files.packages",
		"/var/log/yum.log":                                "files.packages",
		"/var/log/dnf.rpm.log":                            "files.packages",
		"/var/lib/dnf/history.sqlite":                     "files.packages",
		"/etc/docker/daemon.json":                         "files.containers.config",
		"/etc/containers/registries.conf":                 "files.containers.config",
		"/var/lib/docker/containers/abc/config.v2.json":   "files.containers.config",
		"/var/lib/docker/containers/abc/hostconfig.json":  "files.containers.config",
		"/var/lib/docker/containers/abc/abc-json.log":     "files.containers.logs",
		"/var/lib/docker/containers/abc/abc-json.log.1":   "files.containers.logs",
		"/var/lib/containers/storage/overlay-containers/abc/userdata/config.json": "files.containers.config",
		"/home/alice/.docker/config.json":                                         "files.containers.config",
		"/home/weXrd/.bash_history":                                               "", // not a home: "*" in a home is literal
		"/home/alice/.ssh/id_ed25519":                                             "", // private keys are not taken
		"/media/usb/out/bag.tar.zst":                                              "", // the output folder
	}
	for p := range owner {
		if p != "/etc/passwd" {
			mkfile(t, root, p, "x")
		}
	}
	if err := os.Symlink("/dev/shm", filepath.Join(root, "/run/shm")); err != nil {
		t.Fatal(err)
	}
	// A temporary file over the triage cap of 16 MiB (sparse).
	big := filepath.Join(root, "/tmp/big")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, 17<<20) != nil {
		t.Fatal("make /tmp/big")
	}
	for _, profile := range []string{"triage", "full"} {
		cs, err := s.Build(profile, stubs(), &collect.Env{Root: root, OS: "linux"}, "/media/usb/out")
		if err != nil {
			t.Fatal(err)
		}
		sink := &collecttest.Sink{}
		got := map[string]string{}
		var outs []collect.Outcome
		for _, c := range cs {
			if _, ok := c.(*files.Tree); !ok {
				continue
			}
			sess := collect.NewSession(&collect.Env{Root: root, OS: "linux"}, c, sink, func(o collect.Outcome) { outs = append(outs, o) })
			if err := c.Collect(context.Background(), sess); err != nil {
				t.Fatalf("%s: %v", c.Name(), err)
			}
		}
		for _, o := range outs {
			if o.Path == "" {
				continue
			}
			if prev, dup := got[o.Source]; dup {
				t.Errorf("%s: %s stored by %s and %s", profile, o.Source, prev, o.Collector)
			}
			got[o.Source] = o.Collector
			if o.Source == "/tmp/big" {
				want := collect.Partial
				if profile == "full" {
					want = collect.Collected
				}
				if o.Status != want || (profile == "triage" && o.Size != 16<<20) {
					t.Errorf("%s: /tmp/big %s %d bytes: %s", profile, o.Status, o.Size, o.Reason)
				}
			}
			if o.Source == "/run/shm" && o.Status != collect.Collected {
				t.Errorf("/run/shm link: %+v", o)
			}
		}
		var missing []string
		for p, want := range owner {
			if got[p] != want {
				missing = append(missing, fmt.Sprintf("%s: by %q, want %q", p, got[p], want))
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s:\n%s", profile, strings.Join(missing, "\n"))
		}
		if len(sink.Order) != len(sink.Files) {
			t.Errorf("%s: %d artifacts under %d names", profile, len(sink.Order), len(sink.Files))
		}
	}
}

func TestBuildWithoutPasswd(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	mkfile(t, root, "/root/.bash_history", "ls\n")
	cs, err := s.Build("triage", stubs(), &collect.Env{Root: root, OS: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name() != "files.users.history" {
			continue
		}
		outs := &collecttest.Outcomes{}
		sink := &collecttest.Sink{}
		if err := c.Collect(context.Background(), collect.NewSession(&collect.Env{Root: root, OS: "linux"}, c, sink, outs.Add)); err != nil {
			t.Fatal(err)
		}
		o := outs.BySource("/etc/passwd")
		if len(o) != 1 || o[0].Status != collect.Failed || !strings.HasPrefix(o[0].Reason,
			"home folders not known, ~/ patterns taken in /root only: read passwd: ") {
			t.Errorf("passwd outcome = %+v", o)
		}
		if string(sink.Files["fs/root/.bash_history"]) != "ls\n" {
			t.Errorf("/root/.bash_history not taken: %v", sink.Order)
		}
		return
	}
	t.Fatal("files.users.history not built")
}

func FuzzLoad(f *testing.F) {
	entries, _ := embedded.ReadDir("definitions")
	for _, e := range entries {
		b, _ := embedded.ReadFile("definitions/" + e.Name())
		f.Add(b)
	}
	f.Add([]byte(okProfiles + "items:\n  - name: files.x\n    class: disk\n    paths: [~/x, /y/*]\n    max_file_size: {p: 1KiB}\n    profiles: [p]\n"))
	f.Add([]byte("profiles:\n  p: {os: [linux, windows], include: [\"*\"], bodyfile: [/tmp]}\n  w: {os: [windows], bodyfile: [/]}\n" +
		"items:\n  - native: proc.table\n    profiles: [p]\n  - native: bodyfile.x\n    os: [windows]\n    profiles: [w]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("items: &x\n  - *x\n"))
	f.Add([]byte("profiles:\n  p: {include: ['[']}\n"))
	f.Add([]byte("items:\n  - max_file_size: [1]\n"))
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nx:x:1:1::/home/../x/:/bin/sh\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, h := range parseHomes(b) {
			if !strings.HasPrefix(h, "/") || path.Clean(h) != h {
				t.Fatalf("home %q not absolute and clean", h)
			}
		}
		s, err := parse([]source{{label: "fuzz.yaml", data: b}})
		if err != nil {
			return
		}
		for _, p := range s.Profiles() {
			if _, err := s.Build(p.Name, stubs(), &collect.Env{Root: t.TempDir(), OS: p.OS[0]}); err != nil {
				t.Fatalf("loaded profile %s does not build: %v", p.Name, err)
			}
		}
	})
}

// TestOS checks the os keys: the defaults, the refusal of a profile for
// another OS, and the items of a profile that are not for the host's OS.
func TestOS(t *testing.T) {
	s, err := parse([]source{{"a.yaml", []byte(`profiles:
  linux: {description: the default OS}
  both: {os: [linux, windows], include: ["*"]}
  win: {os: [windows], include: ["*"]}
items:
  - native: proc.table
    profiles: [linux]
  - name: files.unix
    class: disk
    paths: [/etc]
    profiles: [linux, both]
  - name: files.windows
    class: disk
    paths: [/Windows/System32/config]
    os: [windows]
`)}})
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]string{}
	for _, p := range s.Profiles() {
		var names []string
		for _, it := range p.Items {
			names = append(names, it.Name+"/"+strings.Join(it.OS, "+"))
		}
		members[p.Name] = strings.Join(p.OS, "+") + ": " + strings.Join(names, " ")
	}
	want := map[string]string{
		"linux": "linux: proc.table/linux files.unix/linux",
		"both":  "linux+windows: proc.table/linux files.unix/linux files.windows/windows",
		"win":   "windows: files.windows/windows", // "*" takes only the items for windows
	}
	if !reflect.DeepEqual(members, want) {
		t.Errorf("profiles:\n%q\nwant\n%q", members, want)
	}

	env := &collect.Env{Root: t.TempDir(), OS: "windows"}
	if _, err := s.Build("linux", stubs(), env); err == nil ||
		err.Error() != "profile linux is for linux; the host collected runs windows" {
		t.Errorf("linux profile on windows: %v", err)
	}
	for _, c := range []struct {
		os      string
		skipped map[string]string // item: reason
	}{
		{"windows", map[string]string{
			"proc.table": "item for linux only; the host collected runs windows",
			"files.unix": "item for linux only; the host collected runs windows"}},
		{"linux", map[string]string{
			"files.windows": "item for windows only; the host collected runs linux"}},
	} {
		env := &collect.Env{Root: t.TempDir(), OS: c.os}
		cs, err := s.Build("both", stubs(), env)
		if err != nil {
			t.Fatalf("%s: %v", c.os, err)
		}
		if len(cs) != 3 {
			t.Errorf("%s: %d collectors, want one for each of the 3 items", c.os, len(cs))
		}
		for _, col := range cs {
			outs := &collecttest.Outcomes{}
			if err := col.Collect(context.Background(), collect.NewSession(env, col, &collecttest.Sink{}, outs.Add)); err != nil {
				t.Fatal(err)
			}
			reason, skip := c.skipped[col.Name()]
			switch {
			case skip && (len(outs.All) != 1 || outs.All[0].Status != collect.Skipped || outs.All[0].Reason != reason ||
				outs.All[0].Kind != "collector" || outs.All[0].Collector != col.Name()):
				t.Errorf("%s: %s: outcomes %+v, want one skipped: %s", c.os, col.Name(), outs.All, reason)
			case !skip && len(outs.All) == 1 && outs.All[0].Kind == "collector":
				t.Errorf("%s: %s skipped: %+v", c.os, col.Name(), outs.All[0])
			}
		}
		for _, col := range cs {
			if col.Name() == "proc.table" && col.Class() != collect.ClassProcess {
				t.Errorf("%s: proc.table of class %v", c.os, col.Class())
			}
		}
	}
}

func TestNativeDescription(t *testing.T) {
	s, err := parse([]source{{"a.yaml", []byte(okProfiles + "items:\n  - native: proc.table\n    profiles: [p]\n" +
		"  - native: proc.hidden\n    description: mine\n    profiles: [p]\n")}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := collect.LookupNative("proc.table")
	items := s.Items()
	if items[0].Description != n.Description || n.Description == "" {
		t.Errorf("proc.table: description %q, want the registry's %q", items[0].Description, n.Description)
	}
	if items[1].Description != "mine" {
		t.Errorf("proc.hidden: description %q, want the definition's", items[1].Description)
	}
}

// TestBuildMemory checks that proc.memory is built when processes are
// selected for it, and left out when none is.
func TestBuildMemory(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	env := &collect.Env{Root: t.TempDir(), OS: "linux"}
	for _, c := range []struct {
		pids []int
		want bool
	}{{nil, false}, {[]int{1}, true}} {
		cs, err := s.Build(DefaultProfile, collect.NewNatives(collect.NativeOptions{MemoryPIDs: c.pids}), env)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, x := range cs {
			got = got || x.Name() == "proc.memory"
		}
		if got != c.want {
			t.Errorf("memory of %v: proc.memory built: %v", c.pids, got)
		}
	}
}

func TestBuildWindows(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	env := collect.WindowsImageEnv("/dev/null", nil)
	if _, err := s.Build("triage", stubs(), &env); err == nil || !strings.Contains(err.Error(), "the host collected runs windows") {
		t.Errorf("triage on a Windows image: %v", err)
	}
	cs, err := s.Build(WindowsProfile, stubs(), &env)
	if err != nil {
		t.Fatal(err)
	}
	trees := 0
	for _, c := range cs {
		tr, ok := c.(*ntfs.Tree)
		if !ok {
			continue
		}
		trees++
		if len(tr.Patterns) == 0 || tr.Class() != collect.ClassDisk {
			t.Errorf("%s: %+v", tr.Name(), tr)
		}
		if tr.Name() == "windows.ntfs.mft" && (tr.MaxFileSize != -1 || tr.Patterns[0] != "/$MFT") {
			t.Errorf("windows.ntfs.mft: %+v", tr)
		}
	}
	if trees < 10 {
		t.Errorf("%d NTFS trees in %s", trees, WindowsProfile)
	}
}
