package dev.spindle.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Checks {@link Requires}: a class's before its {@code @BeforeAll} methods, so that they may use
 * the tools; a method's before its {@code @BeforeEach} methods. Callbacks rather than an
 * {@code ExecutionCondition}, because a condition can only skip and a required tool must fail.
 */
final class RequiresExtension implements BeforeAllCallback, BeforeEachCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    context.getTestClass().flatMap(c -> AnnotationSupport.findAnnotation(c, Requires.class))
        .ifPresent(r -> Requirements.require(r.value()));
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    // The class's annotation was checked in beforeAll: here only the method's own.
    context.getTestMethod().flatMap(m -> AnnotationSupport.findAnnotation(m, Requires.class))
        .ifPresent(r -> Requirements.require(r.value()));
  }
}
