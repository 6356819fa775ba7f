#!/bin/sh
# PID 1 of the QEMU memory test's guest (internal/qemutest). Every line the
# test reads starts with "QEMUTEST "; the serial console is the test's log.
export PATH=/bin
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /mnt /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() { echo "QEMUTEST FAIL $*"; poweroff -f; }

# The virtio and ext4 modules, in dependency order.
while read -r m; do
	insmod "/modules/$m" || fail "insmod $m"
done </modules/order
mount -t ext4 /dev/vda /mnt || fail "mount /dev/vda"

# What the host cannot see: the guest's own view of its memory.
block() { echo "QEMUTEST BEGIN $1"; cat "$2"; echo "QEMUTEST END $1"; }
block iomem /proc/iomem
block version /proc/version
block vmcoreinfo /sys/kernel/vmcoreinfo
block meminfo /proc/meminfo

# The baseline: dd of the same /proc/kcore ranges scelle reads, to /dev/null.
guest kcore >/tmp/kcore.plan || fail "guest kcore"
cat >/tmp/dd.sh <<'EOF'
while read -r off size; do
	dd if=/proc/kcore of=/dev/null bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$size" 2>/dev/null || exit 1
done </tmp/kcore.plan
EOF
guest run dd sh /tmp/dd.sh

# The default triage onto the virtio disk. --no-report: the host verifies
# the bag; a second read of the image under emulation would double the run.
guest run scelle scelle collect --out /mnt/evidence --case qemu --examiner test \
	--no-prompt --no-report 2>&1 | sed 's/^/QEMUTEST collect: /'
sync
umount /mnt || fail "umount /mnt"

# The host now dumps the guest's memory through QMP, then quits QEMU.
echo "QEMUTEST IDLE"
sleep 600
poweroff -f
