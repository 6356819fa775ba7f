// Package qemutest holds the live test of the physical memory capture
// (issue 11), which needs a kernel that serves /proc/kcore: it boots
// Debian's current amd64 kernel in QEMU (software emulation, no KVM) with
// 1 GiB of RAM, a virtio disk and an initramfs of busybox, the static
// scelle and a small helper (testdata/guest), runs a default triage onto
// the disk, dumps QEMU's own view of the guest's memory through QMP while
// the guest idles, and checks the bag it reads back from the disk image
// (debugfs, no mount) against that dump and against what the guest
// printed on its serial console (/proc/iomem, /proc/version, VMCOREINFO).
//
// The package has no code of its own: only the test. The kernel is
// fetched by testdata/kernel.sh, which the Makefile's deps runs. The test
// skips, saying why, when QEMU or the kernel are absent and it does not
// run as root; as root (CI), their absence is a failure.
package qemutest
