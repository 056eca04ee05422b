"""no_grad / enable_grad / set_grad_enabled: context managers, decorators, thread-locality."""
import threading

import tapegrad as tg


def test_no_grad_context_records_nothing():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        y = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_decorator():
    @tg.no_grad()
    def f(x):
        return x * 2
    assert not f(tg.ones(2, requires_grad=True)).requires_grad
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_enable_grad_decorator():
    @tg.enable_grad()
    def f(x):
        return x * 2
    with tg.no_grad():
        assert f(tg.ones(2, requires_grad=True)).requires_grad


def test_set_grad_enabled_function_context_and_decorator():
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def f():
        return tg.is_grad_enabled()
    assert f() is False and tg.is_grad_enabled()


def test_mode_restored_after_exception():
    try:
        with tg.no_grad():
            raise ValueError
    except ValueError:
        pass
    assert tg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = tg.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    x = tg.ones(2, requires_grad=True)
    seen["main"] = tg.is_grad_enabled()
    seen["main_records"] = (x * 2).requires_grad
    release.set()
    t.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


def test_new_thread_starts_with_grad_enabled():
    seen = []
    with tg.no_grad():
        t = threading.Thread(target=lambda: seen.append(tg.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]
