#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Generate man(3) pages from lfpat's public headers.

    manpages.py OUTDIR VERSION HEADER...

Every public header gets a family page named after it (lfpat/mpmc.h ->
lfp_mpmc(3), lfpat/locked/queue.h -> lfp_locked_queue(3)) holding the
header's opening comment, and every public call (an LFP_API declaration,
a static inline prototype or definition, or a prototype written as the
first line of a comment) a page of its own holding the comment written
above it. A comment above a group of
declarations documents each of them. Names ending in '_' are internal and
get no page. The pages say nothing the headers do not: the headers are the
contract, these are its index."""
import os
import re
import sys

DECL = re.compile(r'(?:LFP_API\s+|static\s+inline\s+)(?P<proto>[^;{]*?\b(?P<name>lfp_\w+)\s*\([^;{]*\))', re.S)
COMMENT_PROTO = re.compile(r'^\s*(?P<proto>[A-Za-z_][\w \*]*?\b(?P<name>lfp_\w+)\s*\([^)]*\))\s*$')


def comments_and_decls(text):
    """Yield ('comment', text) and ('decl', name, prototype) in file order;
    ('gap',) for a blank line or other code that ends a comment's group."""
    i, n = 0, len(text)
    decl_end = -1
    while i < n:
        while i < n and text[i] in ' \t':
            i += 1
        if text.startswith('/*', i):
            j = text.index('*/', i) + 2
            body = text[i + 2:j - 2]
            lines = [re.sub(r'^\s*\* ?', '', l) for l in body.split('\n')]
            same_line = decl_end >= 0 and '\n' not in text[decl_end:i]
            i = j
            if body.strip().startswith('SPDX-License-Identifier:'):
                continue   # the license line is no one's documentation
            yield ('trailing' if same_line else 'comment', '\n'.join(lines).strip('\n'))
            continue
        decl_end = -1
        eol = text.find('\n', i)
        eol = n if eol < 0 else eol
        line = text[i:eol]
        if not line.strip():
            yield ('gap',)
            i = eol + 1
            continue
        m = DECL.match(text, i)
        if m and m.start() == i:
            proto = ' '.join(m.group('proto').split())
            yield ('decl', m.group('name'), proto)
            # skip a body if this is a definition
            end = m.end()
            semi = text.find(';', end)
            brace = text.find('{', end)
            if brace >= 0 and (semi < 0 or brace < semi):
                depth, k = 0, brace
                while k < n:
                    if text[k] == '{':
                        depth += 1
                    elif text[k] == '}':
                        depth -= 1
                        if depth == 0:
                            break
                    k += 1
                i = k + 1
            else:
                i = semi + 1
            decl_end = i
            continue
        yield ('code',)
        i = eol + 1


def esc(s):
    s = s.replace('\\', '\\e')
    return '\n'.join(('\\&' + l) if l[:1] in ('.', "'") else l for l in s.split('\n'))


def paragraphs(text):
    out = []
    for para in re.split(r'\n\s*\n', text.strip()):
        lines = para.split('\n')
        # indented or list-like lines keep their layout
        if any(l.startswith(('  ', '-', '\t')) or re.match(r'^\s*\d+\.', l) for l in lines[1:]):
            out.append('.nf\n' + esc(para) + '\n.fi')
        else:
            out.append(esc(' '.join(l.strip() for l in lines)))
    return '\n.PP\n'.join(out)


def summary(text):
    first = ' '.join(text.strip().split('\n\n')[0].split())
    first = re.sub(r'^\S+\.h\s+[—-]+\s*', '', first)
    m = re.match(r'(.+?[.:])(\s|$)', first)
    return (m.group(1) if m else first).rstrip('.:')


def page(name, version, section_text):
    return (f'.TH {name.upper()} 3 "" "lfpat {version}" "lfpat Library Functions"\n'
            + section_text)


def main():
    out, version, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    written = 0
    for path in sorted(headers):
        # lfpat/mpmc.h -> lfp_mpmc(3); lfpat/locked/queue.h -> lfp_locked_queue(3)
        inc = 'lfpat/' + path.replace(os.sep, '/').rsplit('/lfpat/', 1)[-1]
        family = 'lfp_' + os.path.splitext(inc[len('lfpat/'):])[0].replace('/', '_')
        text = open(path, encoding='utf-8').read()
        items = list(comments_and_decls(text))
        top = next((it[1] for it in items if it[0] == 'comment'), '')
        calls = {}          # name -> (proto, doc)
        doc, attached, last = None, False, None
        for it in items:
            if it[0] == 'comment':
                m = COMMENT_PROTO.match(it[1].split('\n')[0])
                if m and not m.group('name').endswith('_'):
                    rest = it[1].split('\n', 1)[1] if '\n' in it[1] else ''
                    calls.setdefault(m.group('name'), (' '.join(m.group('proto').split()) + ';', rest))
                doc, attached = it[1], True
            elif it[0] == 'decl':
                name, proto = it[1], it[2]
                last = None
                if not name.endswith('_') and name not in calls:
                    calls[name] = (proto + ';', doc if attached and doc is not top else '')
                    last = name
            elif it[0] == 'trailing':
                if last and not calls[last][1]:
                    calls[last] = (calls[last][0], it[1])
            elif it[0] == 'code':
                attached = False
            # a blank line between a comment and its declarations is allowed;
            # other code ends the group
        if not calls:
            # an umbrella (lfpat/locked.h): its page indexes the headers it includes
            subs = ['lfp_' + m.replace('/', '_') for m in
                    re.findall(r'#include "lfpat/(\w+/\w+)\.h"', text)]
            if top and subs:
                with open(os.path.join(out, family + '.3'), 'w') as f:
                    f.write(page(family, version,
                                 f'.SH NAME\n{family} \\- {esc(summary(top))}\n'
                                 f'.SH SYNOPSIS\n.nf\n.B #include <{inc}>\n.fi\n'
                                 f'.SH DESCRIPTION\n{paragraphs(top)}\n'
                                 '.SH HEADERS\n' + '\n.br\n'.join(f'.BR {h} (3)' for h in subs)
                                 + '\n.SH SEE ALSO\n.BR lfpat (3)\n'))
            continue
        names = sorted(calls)
        fam = page(family, version,
                   f'.SH NAME\n{family} \\- {esc(summary(top))}\n'
                   f'.SH SYNOPSIS\n.nf\n.B #include <{inc}>\n.fi\n'
                   f'.SH DESCRIPTION\n{paragraphs(top)}\n'
                   '.SH FUNCTIONS\n' + '\n.br\n'.join(f'.BR {c} (3)' for c in names) + '\n'
                   '.SH SEE ALSO\n.BR lfpat (3)\n')
        if family in calls:
            family += '_family'
        with open(os.path.join(out, family + '.3'), 'w') as f:
            f.write(fam)
        for c in names:
            proto, d = calls[c]
            see = f'.BR {family} (3)'
            twin = re.match(r'lfp_locked_(\w+)', c)
            if twin:
                # lfp_locked_queue is the twin of the bounded queues, whose
                # calls are named after lfp_mpmc (no lfp_queue_* exists)
                of = re.sub(r'^queue_', 'mpmc_', twin.group(1))
                see += f',\n.BR lfp_locked (3),\n.BR lfp_{of} (3)'
                d = (f'The mutex twin of lfp_{of}(3): the same call shape, return '
                     'codes and contract, implemented as a pthread mutex (and condition '
                     'variables where it blocks) around plain data. Progress: blocking.'
                     + (f'\n\n{d}' if d else ''))
            d = d or f'See {family}(3).'
            with open(os.path.join(out, c + '.3'), 'w') as f:
                f.write(page(c, version,
                             f'.SH NAME\n{c} \\- {esc(summary(d))}\n'
                             f'.SH SYNOPSIS\n.nf\n.B #include <{inc}>\n.PP\n{esc(proto)}\n.fi\n'
                             f'.SH DESCRIPTION\n{paragraphs(d)}\n'
                             f'.SH SEE ALSO\n{see}\n'))
            written += 1
    print(f'manpages: {written} call pages in {out}')


if __name__ == '__main__':
    main()
