package io.multiproc4j.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fails a test that runs past its deadline, after printing every thread of this JVM and of every
 * live worker JVM it started, then killing those workers: a hang becomes a dump, not a CI timeout.
 * On a class, applies to each test of the class.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(DeadlineExtension.class)
public @interface Deadline {
    /** @return the deadline in seconds */
    int seconds() default 60;
}
