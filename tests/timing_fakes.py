"""Fakes for tests of timing in turns: a clock and onnxruntime-like
sessions whose calls are slow while another one's threads still spin."""


class FakeClock:
    """A fake clock for timing tests: ``sleep`` and calls advance it."""

    def __init__(self):
        self.now = 0.0
        self.last_end = {}  # backend name -> end of its last call

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class SpinningBackend:
    """Takes ``cost`` s per call, and ``penalty`` s more while another
    backend's threads still spin (it returned less than ``spin`` s ago):
    what onnxruntime sessions sharing two cores do."""

    def __init__(self, clock, name, cost, penalty=0.01, spin=0.04):
        self.clock, self.name = clock, name
        self.cost, self.penalty, self.spin = cost, penalty, spin

    def __call__(self, inputs):
        c = self.clock
        busy = any(c.now - end < self.spin
                   for name, end in c.last_end.items() if name != self.name)
        c.now += self.cost + (self.penalty if busy else 0.0)
        c.last_end[self.name] = c.now
