"""Finding one-token faults in Python source with ``ast`` (operator positions from ``tokenize``).

Used by tools/mutation.py (see its docstring). Pure functions on text: nothing here runs tests or
writes files.
"""
import ast
import difflib
import hashlib
import io
import os
import random
import tokenize
from dataclasses import dataclass

BINOPS = {ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.FloorDiv: "/", ast.Mod: "//",
          ast.Pow: "*", ast.MatMult: "*", ast.BitAnd: "|", ast.BitOr: "&"}
AUGOPS = {ast.Add: "-=", ast.Sub: "+=", ast.Mult: "/=", ast.Div: "*=", ast.BitAnd: "|=", ast.BitOr: "&="}
CMPOPS = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
          ast.Is: "is not", ast.IsNot: "is", ast.In: "not in", ast.NotIn: "in"}
# Swapping these calls' arguments fails on every call (apply(opdef, ...) included): no test needs to look.
NO_SWAP_CALLS = {"isinstance", "issubclass", "getattr", "setattr", "hasattr", "delattr", "print", "super",
                 "apply"}
NO_MUTATE_MARK = "no mutate"
# Keyword arguments that only change messages.
NO_MUTATE_KEYWORDS = {"stacklevel"}


@dataclass
class Mutant:
    """One fault: text edits ``(start, end, new)`` (character offsets) on one file."""
    id: str
    path: str                  # relative to the repository root, '/'-separated
    line: int
    kind: str
    description: str
    edits: list
    status: str = "pending"    # killed | timeout | survived | equivalent | error
    seconds: float = 0.0
    suite: str = ""            # targeted | full
    detail: str = ""           # the first failing test, or why it errored
    diff: str = ""




class _Source:
    """A file's text with conversions between ast/tokenize positions and character offsets."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))
        self.all_tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                           if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
                                             tokenize.DEDENT, tokenize.ENDMARKER)]
        self.tokens = self.all_tokens

    def off(self, line, col):
        """Offset of (1-based line, character column)."""
        return self.starts[line - 1] + col

    def node_span(self, node):
        """Character offsets of an ast node (ast columns count UTF-8 bytes)."""
        def char_col(line, bcol):
            return len(self.lines[line - 1].encode()[:bcol].decode(errors="replace"))
        return (self.off(node.lineno, char_col(node.lineno, node.col_offset)),
                self.off(node.end_lineno, char_col(node.end_lineno, node.end_col_offset)))

    def seg(self, node):
        a, b = self.node_span(node)
        return self.text[a:b]

    def tokens_between(self, a, b):
        """Tokens fully inside offsets [a, b), without brackets."""
        out = []
        for t in self.tokens:
            s, e = self.off(*t.start), self.off(*t.end)
            if s >= a and e <= b and t.string not in "()":
                out.append((s, e, t.string))
        return out


def _is_str(node):
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def _skipped_nodes(tree):
    """Ids of nodes whose subtrees are never mutated: raise, f-strings, annotations, docstrings."""
    skip = set()

    def mark(n):
        if n is not None:
            for sub in ast.walk(n):
                skip.add(id(sub))

    for n in ast.walk(tree):
        if isinstance(n, (ast.Raise, ast.JoinedStr, ast.Assert)):
            mark(n)
        elif isinstance(n, ast.keyword) and n.arg in NO_MUTATE_KEYWORDS:
            mark(n)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(n.returns)
            for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs + [n.args.vararg, n.args.kwarg]:
                if a is not None:
                    mark(a.annotation)
        elif isinstance(n, ast.AnnAssign):
            mark(n.annotation)
        elif isinstance(n, ast.If) and isinstance(n.test, ast.Compare) and "__name__" in ast.dump(n.test):
            mark(n)
    return skip


def _const_change(v):
    if isinstance(v, bool):
        return repr(not v)
    if isinstance(v, int):
        return "1" if v == 0 else "0" if v == 1 else str(v + 1)
    if isinstance(v, float):
        return "1.0" if v == 0.0 else "0.0" if v == 1.0 else repr(v + 1)
    return None


def find_mutants(path, text):
    """All mutants of one file (``path`` relative to the root), in source order.

    Example:
        >>> [m.description for m in find_mutants("m.py", "y = a + b\\n")]
        ["'+' -> '-'"]
    """
    src = _Source(text)
    tree = ast.parse(text)
    skip = _skipped_nodes(tree)
    found = []                     # (offset, kind, description, edits)

    def add(kind, desc, edits):
        found.append((edits[0][0], kind, desc, edits))

    def op_token(a, b, accept):
        toks = [t for t in src.tokens_between(a, b) if t[2] in accept or t[2] in ("is", "not", "in")]
        if not toks:
            return None
        return toks[0][0], toks[-1][1], " ".join(t[2] for t in toks)

    for n in ast.walk(tree):
        if id(n) in skip:
            continue
        if isinstance(n, ast.BinOp) and type(n.op) in BINOPS and not (_is_str(n.left) or _is_str(n.right)):
            tok = op_token(src.node_span(n.left)[1], src.node_span(n.right)[0], {"+", "-", "*", "/", "//", "%",
                                                                                 "**", "@", "&", "|"})
            if tok:
                add("binop", f"{tok[2]!r} -> {BINOPS[type(n.op)]!r}", [(tok[0], tok[1], BINOPS[type(n.op)])])
        elif isinstance(n, ast.AugAssign) and type(n.op) in AUGOPS and not isinstance(
                n.value, (ast.List, ast.Tuple, ast.ListComp)) and not _is_str(n.value):
            tok = op_token(src.node_span(n.target)[1], src.node_span(n.value)[0], {"+=", "-=", "*=", "/=", "&=", "|="})
            if tok:
                add("augop", f"{tok[2]!r} -> {AUGOPS[type(n.op)]!r}", [(tok[0], tok[1], AUGOPS[type(n.op)])])
        elif isinstance(n, ast.Compare):
            operands = [n.left] + n.comparators
            for i, cop in enumerate(n.ops):
                tok = op_token(src.node_span(operands[i])[1], src.node_span(operands[i + 1])[0],
                               {"<", "<=", ">", ">=", "==", "!="})
                if tok and type(cop) in CMPOPS:
                    add("compare", f"{tok[2]!r} -> {CMPOPS[type(cop)]!r}", [(tok[0], tok[1], CMPOPS[type(cop)])])
        elif isinstance(n, ast.BoolOp):
            new = "or" if isinstance(n.op, ast.And) else "and"
            for left, right in zip(n.values, n.values[1:]):
                tok = op_token(src.node_span(left)[1], src.node_span(right)[0], {"and", "or"})
                if tok:
                    add("boolop", f"{tok[2]!r} -> {new!r}", [(tok[0], tok[1], new)])
        elif isinstance(n, ast.Constant) and not isinstance(n.value, (str, bytes)):
            new = _const_change(n.value)
            if new is not None:
                a, b = src.node_span(n)
                add("const", f"{src.text[a:b]!r} -> {new!r}", [(a, b, new)])
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.Not)):
            a = src.node_span(n)[0]
            nxt = [t for t in src.all_tokens if src.off(*t.start) >= a][:2]
            if len(nxt) == 2 and nxt[0].string in ("-", "not"):
                add("unary", f"drop {nxt[0].string!r}", [(a, src.off(*nxt[1].start), "")])
        if isinstance(n, ast.Call):
            fname = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(
                n.func, ast.Attribute) else ""
            args = n.args
            if (len(args) >= 2 and fname not in NO_SWAP_CALLS and not any(isinstance(x, ast.Starred) for x in args[:2])
                    and not (_is_str(args[0]) or _is_str(args[1]))):
                (a0, b0), (a1, b1) = src.node_span(args[0]), src.node_span(args[1])
                t0, t1 = src.text[a0:b0], src.text[a1:b1]
                more = ", ..." if len(args) > 2 or n.keywords else ""
                if t0 != t1:
                    s0, s1 = _short(t0, 40), _short(t1, 40)
                    add("swap-args", f"{fname}({s0}, {s1}{more}) -> {fname}({s1}, {s0}{more})",
                        [(a0, b0, t1), (a1, b1, t0)])
            for kw in n.keywords:
                if kw.arg in ("axis", "dim") and not (isinstance(kw.value, ast.Constant) and kw.value.value is None):
                    a, b = src.node_span(kw.value)
                    add("keyword", f"{kw.arg}={_short(src.text[a:b])} -> {kw.arg}=None", [(a, b, "None")])
                elif kw.arg in ("keepdims", "keepdim") and not isinstance(kw.value, ast.Constant):
                    a, b = src.node_span(kw.value)
                    add("keyword", f"{kw.arg}={_short(src.text[a:b])} -> {kw.arg}=not ({_short(src.text[a:b])})",
                        [(a, b, f"not ({src.text[a:b]})")])
        if isinstance(n, (ast.AugAssign, ast.Assign, ast.AnnAssign, ast.Expr)) and _droppable(n):
            a, b = src.node_span(n)
            first = src.text[a:b].splitlines()[0]
            add("drop-stmt", f"drop `{_short(first)}`" + (" ..." if "\n" in src.text[a:b] else ""), [(a, b, "pass")])

    mutants = []
    seen = {}
    for start, kind, desc, edits in sorted(found, key=lambda f: (f[0], f[1], f[2])):
        line = text.count("\n", 0, start) + 1
        if NO_MUTATE_MARK in src.lines[line - 1]:
            continue
        new_text = apply_edits(text, edits)
        try:
            compile(new_text, path, "exec")
        except SyntaxError:
            continue
        # Stable id: the file, the line's own text, the column within it and the change.
        text_line = src.lines[line - 1]
        col = start - src.starts[line - 1] - (len(text_line) - len(text_line.lstrip()))
        key = f"{path}|{text_line.strip()}|{col}|{kind}|{desc}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += f"|{seen[key]}"
        stem = os.path.splitext(os.path.basename(path))[0]
        mid = f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
        mutants.append(Mutant(mid, path, line, kind, desc, edits))
    return mutants


def _short(text, width=70):
    """Source text on one line, cut to ``width`` characters for a readable description."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _droppable(n):
    """A statement whose removal keeps the program running: an effect, not a definition of a local."""
    if isinstance(n, ast.AugAssign):
        return True
    if isinstance(n, ast.Assign):
        return all(isinstance(t, (ast.Attribute, ast.Subscript)) for t in n.targets)
    if isinstance(n, ast.AnnAssign):
        return n.value is not None and isinstance(n.target, (ast.Attribute, ast.Subscript))
    if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call):
        f = n.value.func
        return not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call)
                    and isinstance(f.value.func, ast.Name) and f.value.func.id == "super")
    return False


def apply_edits(text, edits):
    """The text with ``(start, end, new)`` edits applied.

    Example:
        >>> apply_edits("f(a, b)", [(2, 3, "b"), (5, 6, "a")])
        'f(b, a)'
    """
    for a, b, new in sorted(edits, reverse=True):
        text = text[:a] + new + text[b:]
    return text


def mutant_diff(text, m, context=2):
    """A unified diff of the mutant against the original text."""
    new = apply_edits(text, m.edits)
    return "".join(difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{m.path}", f"b/{m.path}", n=context))


def collect(root, files):
    """All mutants of the given files, in file and source order."""
    out = []
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            out.extend(find_mutants(rel, f.read()))
    return out


def sample(mutants, n, seed):
    """``n`` mutants drawn at random (deterministic for a seed), back in file and line order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    picked = random.Random(seed).sample(range(len(mutants)), n)
    return [mutants[i] for i in sorted(picked)]
