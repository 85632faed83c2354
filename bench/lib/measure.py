"""Read a process tree's CPU time and memory from /proc.

/proc/PID/stat utime+stime covers every thread of the process (the kernel
sums the thread group); a child's time is only added to cutime once reaped,
so children (e.g. nginx workers) are summed explicitly via the process tree.
"""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # comm may contain spaces/parens: fields start after the last ')'
    return data[data.rindex(")") + 2:].split()


def tree(pid):
    """pid and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(_stat_fields(entry)[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid):
    """(utime, stime) of pid and its descendants, in seconds: user space and kernel."""
    user = system = 0
    for p in tree(pid):
        try:
            f = _stat_fields(p)
        except OSError:
            continue
        user += int(f[11])  # field 14 of proc(5)
        system += int(f[12])  # field 15
    return user / CLK_TCK, system / CLK_TCK


def memory_kb(pid):
    """(VmRSS, VmHWM) summed over pid and its descendants, in KiB."""
    rss = hwm = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except OSError:
            continue
    return rss, hwm


def busy_builders():
    """PIDs of running cargo/rustc processes (a build would skew the numbers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "cargo" or comm.startswith("rustc"):
            found.append(f"{entry}:{comm}")
    return found
