package netstat

import (
	"reflect"
	"testing"
)

func TestConnected(t *testing.T) {
	env := fixtureEnv(t)
	yes := true
	ifs := []Interface{
		{Name: "lo", OperState: "unknown", Addresses: []Address{{Address: "127.0.0.1", PrefixLen: 8, Scope: "host"}}},
		{Name: "eth0", OperState: "up", Carrier: &yes, Addresses: []Address{
			{Address: "10.0.2.15", PrefixLen: 24, Scope: "global"}, {Address: "fe80::1", PrefixLen: 64, Scope: "link"}}},
		{Name: "eth1", OperState: "down", Addresses: []Address{{Address: "192.0.2.9", PrefixLen: 24, Scope: "global"}}},
		{Name: "wlan0", OperState: "up", Addresses: []Address{{Address: "fe80::2", PrefixLen: 64, Scope: "link"}}},
	}
	got := Connected(env, ifs)
	want := []string{
		"interface eth0 is up with 10.0.2.15/24",
		"default route via 10.0.2.1 dev eth0",
		"default route via 2001:db8::1 dev eth0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Connected:\n got %q\nwant %q", got, want)
	}
	env.Live = false
	if got := Connected(env, ifs); got != nil {
		t.Errorf("a dead box is connected: %q", got)
	}
}
