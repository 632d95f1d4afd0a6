package io.multiproc4j.manager;

/** The real object behind {@link Counter}; {@link #reset()} is not on the interface. */
public final class CounterImpl implements Counter {
    private int count;

    /** Starts at zero. */
    public CounterImpl() {}

    @Override
    public synchronized int increment() {
        return ++count;
    }

    @Override
    public synchronized int get() {
        return count;
    }

    @Override
    public void fail(String why) throws CounterException {
        throw new CounterException(why);
    }

    /** Not on the interface: no client may call it. */
    public synchronized void reset() {
        count = -1000;
    }
}
