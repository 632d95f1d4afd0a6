package io.multiproc4j.internal.sched;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.TaskFailedException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * Many executor tasks in one batch ({@code invokeAll}), each with its own future. A batch stops at
 * its first failure, but the tasks of an {@code invokeAll} are independent: the failed task's future
 * fails, and the tasks after it go out again as a new batch. A task lost because the worker was killed
 * to cancel another one (or died) is not failed for that: it runs again, unless it is the one the
 * worker died on.
 */
final class BulkJob<T> implements Job {
    private final List<Object> tasks;
    private final List<TaskFuture<T>> futures;
    private final Consumer<BulkJob<T>> resubmit;

    BulkJob(List<Object> tasks, List<TaskFuture<T>> futures, Consumer<BulkJob<T>> resubmit) {
        this.tasks = tasks;
        this.futures = futures;
        this.resubmit = resubmit;
    }

    List<Object> tasks() {
        return tasks;
    }

    List<TaskFuture<T>> futures() {
        return futures;
    }

    @Override
    public boolean isCancelled() {
        for (TaskFuture<T> f : futures) {
            if (!f.isDone()) {
                return false;
            }
        }
        return true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void onResults(BatchTask batch, int offset, List<?> values) {
        for (int i = 0; i < values.size(); i++) {
            futures.get(offset + i).complete((T) values.get(i));
        }
    }

    @Override
    public void onFailure(BatchTask batch, int offset, RuntimeException failure) {
        TaskFuture<T> failed = futures.get(offset);
        boolean lostToAKill = failure instanceof CancellationException && !failed.isCancelled();
        int restFrom = offset + 1;
        if (failure instanceof BrokenPoolException) {
            for (int i = offset; i < futures.size(); i++) {
                futures.get(i).completeExceptionally(failure);
            }
            return;
        }
        if (lostToAKill) {
            restFrom = offset; // killed to cancel a neighbour: it did nothing wrong, run it again
        } else {
            Throwable reported = failure.getClass() == TaskFailedException.class && failure.getCause() != null
                    ? failure.getCause() : failure;
            failed.completeExceptionally(reported);
        }
        List<Object> restTasks = new ArrayList<>();
        List<TaskFuture<T>> restFutures = new ArrayList<>();
        for (int i = restFrom; i < futures.size(); i++) {
            if (!futures.get(i).isDone()) {
                restTasks.add(tasks.get(i));
                restFutures.add(futures.get(i));
            }
        }
        if (!restTasks.isEmpty()) {
            resubmit.accept(new BulkJob<>(restTasks, restFutures, resubmit));
        }
    }
}
