#!/usr/bin/env python3
"""Prints the biggest functions of a .wasm built with --profiling-funcs (names kept), and the
byte total per section, so a size regression can be traced to the code that caused it.

  bench/size/wasm_sizes.py module.wasm [top-n]
"""
import sys


def leb(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def main():
    data = open(sys.argv[1], 'rb').read()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    pos = 8
    sections = []
    imported_funcs = 0
    bodies = []
    names = {}
    while pos < len(data):
        sid = data[pos]
        size, pos = leb(data, pos + 1)
        start, end = pos, pos + size
        name = str(sid)
        if sid == 0:
            nlen, p = leb(data, pos)
            name = 'custom:' + data[p:p + nlen].decode()
            if name == 'custom:name':
                p += nlen
                while p < end:
                    sub, p = leb(data, p)
                    sublen, p = leb(data, p)
                    if sub == 1:
                        q = p
                        count, q = leb(data, q)
                        for _ in range(count):
                            idx, q = leb(data, q)
                            ln, q = leb(data, q)
                            names[idx] = data[q:q + ln].decode(errors='replace')
                            q += ln
                    p += sublen
        elif sid == 2:
            count, p = leb(data, pos)
            for _ in range(count):
                for _ in range(2):
                    ln, p = leb(data, p)
                    p += ln
                kind = data[p]
                p += 1
                if kind == 0:
                    _, p = leb(data, p)
                    imported_funcs += 1
                elif kind == 1:
                    p += 1
                    flags, p = leb(data, p)
                    _, p = leb(data, p)
                    if flags & 1:
                        _, p = leb(data, p)
                elif kind == 2:
                    flags, p = leb(data, p)
                    _, p = leb(data, p)
                    if flags & 1:
                        _, p = leb(data, p)
                elif kind == 3:
                    p += 2
        elif sid == 10:
            count, p = leb(data, pos)
            for i in range(count):
                bsize, p = leb(data, p)
                bodies.append((bsize, imported_funcs + i))
                p += bsize
        sections.append((name, size))
        pos = end
    names_ = {1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global',
              7: 'export', 8: 'start', 9: 'elem', 10: 'code', 11: 'data', 12: 'datacount'}
    print('section sizes:')
    for name, size in sections:
        print(f'  {names_.get(int(name), name) if name.isdigit() else name:24} {size:8}')
    print(f'top {top} functions of {len(bodies)} (bytes, name):')
    for bsize, idx in sorted(bodies, reverse=True)[:top]:
        print(f'  {bsize:6}  {names.get(idx, "#" + str(idx))[:110]}')


if __name__ == '__main__':
    main()
