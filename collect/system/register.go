package system

import "github.com/scelle/scelle/collect"

// The system collectors, as definitions name them (collect.Register).
func init() {
	for _, n := range []collect.Native{
		{Name: "system.time", Description: "clocks, time zone, uptime, boot time and kernel NTP state",
			New: func(collect.NativeOptions) collect.Collector { return &timeCollector{} }},
		{Name: "system.identity", Description: "host name, machine and boot ids, OS release, uname, DMI ids",
			New: func(collect.NativeOptions) collect.Collector { return &identityCollector{} }},
		{Name: "system.kernel", Description: "modules, taint, command line, sysctl values, binfmt_misc, core_pattern, ld.so.preload",
			New: func(collect.NativeOptions) collect.Collector { return &kernelCollector{} }},
		{Name: "system.bpf", Description: "pinned eBPF objects under /sys/fs/bpf and other bpf mounts (stat only)",
			New: func(collect.NativeOptions) collect.Collector { return &bpfCollector{} }},
		{Name: "system.mounts", Description: "mount table and swaps",
			New: func(collect.NativeOptions) collect.Collector { return &mountsCollector{} }},
		{Name: "system.dmesg", Description: "kernel ring buffer, where readable",
			New: func(collect.NativeOptions) collect.Collector { return &dmesgCollector{} }},
	} {
		n.Family, n.Class, n.OS = "system", collect.ClassSystem, []string{"linux"}
		collect.Register(n)
	}
}
