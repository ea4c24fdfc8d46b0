"""No two modules of the package import each other, directly or through
others, at module level or inside a function."""
import ast
import os
import os.path as osp

from .conftest import REPO

PKG = 'mtnet_plugin'


def _modules():
    """{dotted name: file} of every module of the package."""
    out = {}
    for base, _, files in os.walk(osp.join(REPO, PKG)):
        for f in files:
            if f.endswith('.py'):
                rel = osp.relpath(osp.join(base, f), REPO)[:-3]
                name = rel.replace(os.sep, '.')
                out[name[:-len('.__init__')] if name.endswith('__init__')
                    else name] = osp.join(base, f)
    return out


def _imports(name, path, modules):
    """The package's modules that ``name`` imports explicitly (importing a
    submodule also runs its parent packages; that is Python's doing, not an
    edge here)."""
    is_pkg = path.endswith('__init__.py')
    package = name if is_pkg else name.rsplit('.', 1)[0]
    targets = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1])
                mod = f'{base}.{node.module}' if node.module else base
            else:
                mod = node.module
            targets.add(mod)
            # `from .pkg import module` names a module
            targets |= {f'{mod}.{a.name}' for a in node.names}
    return {t for t in targets if t in modules and t != name}


def _cycle(graph):
    """One cycle of ``graph`` as a list of names, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 'open'
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 'open':
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 'done'
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycle():
    modules = _modules()
    graph = {n: _imports(n, p, modules) for n, p in modules.items()}
    assert graph['mtnet_plugin.apis.backends']  # the graph is not empty
    cycle = _cycle(graph)
    assert cycle is None, ' -> '.join(cycle)


def test_the_cycle_finder_finds_one():
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c',
                                                            'a']
    assert _cycle({'a': {'b'}, 'b': set()}) is None
