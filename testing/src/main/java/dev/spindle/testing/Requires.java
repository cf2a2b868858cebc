package dev.spindle.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tools a test class or method runs. Missing ones skip it, naming what to install, or fail it
 * when the build requires them ({@code -Dspindle.require=all}, see {@link Requirements}). Checked
 * before the class's {@code @BeforeAll} methods (on a class) or before the {@code @BeforeEach}
 * methods (on a method).
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RequiresExtension.class)
public @interface Requires {
  Tool[] value();
}
