package winlive

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// liveRun runs one collector on this host and returns what it stored
// and its outcomes.
func liveRun(t *testing.T, name string) (*collecttest.Sink, []collect.Outcome) {
	t.Helper()
	env := &collect.Env{Root: `C:\`, Live: true, OS: "windows"}
	var c collect.Collector
	for _, x := range Collectors() {
		if x.Name() == name {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("no collector %s", name)
	}
	sink := &collecttest.Sink{}
	var outs collecttest.Outcomes
	if err := c.Collect(context.Background(), collect.NewSession(env, c, sink, outs.Add)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, o := range outs.All {
		t.Logf("%s: %s %s %s %q", name, o.Status, o.Source, o.Path, o.Reason)
	}
	return sink, outs.All
}

// records decodes a stored JSON Lines file.
func records[T any](t *testing.T, sink *collecttest.Sink, name string) []T {
	t.Helper()
	b, ok := sink.Files[name]
	if !ok {
		t.Fatalf("%s not stored", name)
	}
	var out []T
	dec := json.NewDecoder(bytesReader(b))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

// TestLiveEveryCollector runs each collector but those TestLivePlanted
// runs, and checks it recorded its items, whatever this host lacks.
func TestLiveEveryCollector(t *testing.T) {
	for _, c := range Collectors() {
		switch c.Name() {
		case "win.processes", "win.images", "win.sockets":
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			_, outs := liveRun(t, c.Name())
			if len(outs) == 0 {
				t.Errorf("%s recorded no outcome", c.Name())
			}
		})
	}
}

// TestHelperChild is the planted process of TestLivePlanted: it listens
// on a loopback port, prints it, and waits for its stdin to close.
func TestHelperChild(t *testing.T) {
	if os.Getenv("WINLIVE_CHILD") != "1" {
		t.Skip("the planted process of TestLivePlanted")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	io.Copy(io.Discard, os.Stdin)
}

// TestLivePlanted runs a planted process (this test binary, listening on
// a loopback port) and checks that the collectors find it: its record
// with command line, folder and image path read from its PEB by another
// process, its image's SHA-256, and its socket. Wine reports most socket
// owners as pid 0: the socket's pid is checked when it is not 0.
func TestLivePlanted(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperChild$")
	cmd.Env = append(os.Environ(), "WINLIVE_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	var port int
	if _, err := fmt.Fscan(out, &port); err != nil {
		t.Fatalf("planted process: %v", err)
	}
	child := uint32(cmd.Process.Pid)

	sink, _ := liveRun(t, "win.processes")
	var found *Process
	for _, p := range records[Process](t, sink, "live/windows/processes.jsonl") {
		if p.PID == child {
			found = &p
		}
	}
	if found == nil {
		t.Fatalf("planted process %d not listed", child)
	}
	if !strings.EqualFold(found.ImagePath, exe) || found.PPID != uint32(os.Getpid()) || !strings.Contains(found.CommandLine, "TestHelperChild") ||
		found.Cwd == "" || found.Hidden || len(found.SeenBy) != 2 || found.StartTime == nil || found.SID == "" || found.ModuleCount == 0 {
		t.Errorf("planted process: %+v", *found)
	}
	views := records[Views](t, sink, "live/windows/process-views.json")
	if len(views) != 1 || len(views[0].Hidden) != 0 || views[0].NtQuery == 0 || views[0].DebugPrivilege == "" {
		t.Errorf("views: %+v", views)
	}

	sink, _ = liveRun(t, "win.images")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x", sha256.Sum256(b))
	var image *Image
	for _, im := range records[Image](t, sink, "live/windows/images.jsonl") {
		if strings.EqualFold(im.Path, exe) {
			image = &im
		}
	}
	if image == nil || image.SHA256 != want || image.Kind != "image" || !slices.Contains(image.PIDs, child) || image.Gone ||
		image.Authenticode == nil || image.Authenticode.Status != "unsigned" {
		t.Errorf("planted image: %+v, want SHA-256 %s", image, want)
	}

	sink, _ = liveRun(t, "win.sockets")
	var sock *Socket
	for _, s := range records[Socket](t, sink, "live/windows/net/sockets.jsonl") {
		if s.Protocol == "tcp" && s.LocalPort == uint16(port) && s.State == "LISTEN" {
			sock = &s
		}
	}
	switch {
	case sock == nil:
		t.Errorf("planted socket 127.0.0.1:%d not listed", port)
	case sock.PID == 0:
		t.Logf("planted socket listed with pid 0: the host (wine) does not report its owner")
	case sock.PID != child:
		t.Errorf("planted socket owned by %d, want %d", sock.PID, child)
	}
}

// TestLiveSystem checks what the system collectors say against what this
// process sees by other means: the hosts file's bytes, the computer
// name, services with hashed binaries, the clock.
func TestLiveSystem(t *testing.T) {
	sink, _ := liveRun(t, "win.dns")
	hosts := filepath.Join(os.Getenv("SystemRoot"), `System32\drivers\etc\hosts`)
	want, err := os.ReadFile(hosts)
	if err != nil {
		t.Fatal(err)
	}
	vol := filepath.VolumeName(hosts)
	name := "fs/" + strings.TrimSuffix(vol, ":") + filepath.ToSlash(hosts[len(vol):])
	var got []byte
	for n, b := range sink.Files {
		if strings.EqualFold(n, name) { // DataBasePath may spell the folder otherwise
			got = b
		}
	}
	if string(got) != string(want) {
		t.Errorf("%s: stored %q, want %q (%v)", name, got, want, sink.Order)
	}

	sink, _ = liveRun(t, "win.identity")
	id := records[Identity](t, sink, "live/windows/system/identity.jsonl")
	host, _ := os.Hostname()
	if len(id) != 1 || !strings.EqualFold(id[0].ComputerName, host) || id[0].OSBuild == 0 || id[0].SMBIOS == nil {
		t.Errorf("identity %+v, host name %q", id, host)
	}

	sink, _ = liveRun(t, "win.services")
	hashed := 0
	for _, sv := range records[Service](t, sink, "live/windows/system/services.jsonl") {
		if sv.SHA256 != "" && sv.ImagePath != "" && sv.StartType != "" {
			hashed++
		}
	}
	if hashed == 0 {
		t.Error("no service with a hashed binary")
	}

	before := time.Now().UTC()
	sink, _ = liveRun(t, "win.time")
	c := records[Clock](t, sink, "live/windows/system/time.jsonl")
	if len(c) != 1 || c[0].WallClock.Before(before) || c[0].UptimeSeconds <= 0 || !c[0].BootTime.Before(before) || c[0].TimeZone == nil {
		t.Errorf("clock %+v", c)
	}
}
