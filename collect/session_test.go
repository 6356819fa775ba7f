package collect

import (
	"reflect"
	"runtime"
	"testing"
)

func TestLinuxEnv(t *testing.T) {
	live := LinuxEnv("/")
	if !live.Live || live.Root != "/" || live.OS != "linux" || live.Linux != (LinuxPaths{Proc: "/proc", Sys: "/sys"}) ||
		live.MaxFileSize != 0 || live.ItemTimeout != 0 {
		t.Errorf("LinuxEnv(/) = %+v", live)
	}
	image := LinuxEnv("/mnt/image")
	if image.Live || image.Root != "/mnt/image" || image.Linux != live.Linux {
		t.Errorf("LinuxEnv(/mnt/image) = %+v", image)
	}
	host := HostEnv("/")
	if host.TargetOS() != runtime.GOOS || !host.Live || (runtime.GOOS == "linux" && !reflect.DeepEqual(host, live)) {
		t.Errorf("HostEnv(/) = %+v", host)
	}
	if got := (&Env{}).TargetOS(); got != runtime.GOOS {
		t.Errorf("TargetOS of the zero Env = %q, want %q", got, runtime.GOOS)
	}
	if got := (&Env{OS: "windows"}).TargetOS(); got != "windows" {
		t.Errorf("TargetOS = %q", got)
	}
}
