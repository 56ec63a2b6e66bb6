#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Give every source, header, script and CMake file of lfpat its SPDX line.

    spdx.py [--check] [SOURCE_DIR]

Without --check, writes `SPDX-License-Identifier: BSD-2-Clause` in the
file's comment syntax as its first line (after a #! line) where it is
missing; running it again changes nothing. With --check, changes nothing,
lists the files that lack the line and fails if there is one (ctest
spdx_lines). The files are git's tracked ones (every file outside build/
when there is no git checkout, e.g. a source archive)."""
import os
import subprocess
import sys

TAG = 'SPDX-License-Identifier: BSD-2-Clause'
C_STYLE = ('.c', '.h', '.cc', '.cpp', '.hpp', '.pml')
HASH_STYLE = ('.py', '.sh', '.cmake', '.cmake.in', '.pc.in')
HASH_NAMES = ('CMakeLists.txt',)


def files(root):
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files', '-z'], check=True,
                             capture_output=True).stdout.decode()
        return [f for f in out.split('\0') if f]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith(('build', '.'))]
            found += [os.path.relpath(os.path.join(d, n), root) for n in names]
        return found


def style(root, rel):
    """The SPDX line for this file, or None if it is not one that needs one."""
    name = os.path.basename(rel)
    if name.endswith(C_STYLE):
        return f'/* {TAG} */'
    if name.endswith(HASH_STYLE) or name in HASH_NAMES:
        return f'# {TAG}'
    path = os.path.join(root, rel)
    if '.' not in name and os.path.isfile(path):   # an extensionless script
        with open(path, 'rb') as f:
            if f.read(2) == b'#!':
                return f'# {TAG}'
    return None


def has_tag(lines):
    return any(TAG in line for line in lines[:3])


def main():
    args = sys.argv[1:]
    check = '--check' in args
    args = [a for a in args if a != '--check']
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    missing = []
    for rel in sorted(files(root)):
        line = style(root, rel)
        path = os.path.join(root, rel)
        if line is None or not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8') as f:
            text = f.read()
        lines = text.split('\n')
        if has_tag(lines):
            continue
        missing.append(rel)
        if check:
            continue
        at = 1 if lines[0].startswith('#!') else 0
        lines.insert(at, line)
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines))
    if check:
        for rel in missing:
            print(f'spdx: {rel} lacks "{TAG}" in its first lines (scripts/spdx.py adds it)')
        if missing:
            return 1
        print('spdx: every source, header, script and CMake file has its SPDX line')
        return 0
    print(f'spdx: added the line to {len(missing)} files')
    return 0


if __name__ == '__main__':
    sys.exit(main())
