package dev.spindle.testing;

import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Checks {@link Requires}. A skip is a condition, so that the class or method shows as skipped in
 * the reports (an abort in a class's set-up hides its tests: surefire counts none of them). A
 * failure cannot be a condition, so a required tool is checked again before the class's
 * {@code @BeforeAll} methods, which may then use it, or before a method's {@code @BeforeEach}.
 */
final class RequiresExtension implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback {
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    // The element's own annotation: a class's was evaluated on the class.
    return context
        .getElement()
        .flatMap(e -> AnnotationSupport.findAnnotation(e, Requires.class))
        .flatMap(r -> Requirements.skipReason(r.value()))
        .map(ConditionEvaluationResult::disabled)
        .orElseGet(
            () -> ConditionEvaluationResult.enabled("the tools it requires are here, or must be"));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    require(
        context.getTestClass().flatMap(c -> AnnotationSupport.findAnnotation(c, Requires.class)));
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    require(
        context.getTestMethod().flatMap(m -> AnnotationSupport.findAnnotation(m, Requires.class)));
  }

  private static void require(Optional<Requires> r) {
    r.ifPresent(requires -> Requirements.require(requires.value()));
  }
}
