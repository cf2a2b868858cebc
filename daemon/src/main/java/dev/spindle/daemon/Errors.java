package dev.spindle.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.spindle.client.Api;
import dev.spindle.sandbox.SandboxException;
import dev.spindle.sandbox.SandboxLimitException;
import java.util.stream.Collectors;

/** The one place an exception becomes the JSON error a client sees. */
public final class Errors {
  private Errors() {}

  public static ApiError map(Throwable e) {
    return switch (e) {
      case ApiError a -> a;
      case UnrecognizedPropertyException u ->
          ApiError.badRequest(
              "unknown_field",
              "unknown field '"
                  + u.getPropertyName()
                  + "'"
                  + where(u)
                  + "; known fields: "
                  + u.getKnownPropertyIds().stream()
                      .map(Object::toString)
                      .sorted()
                      .collect(Collectors.joining(", ")));
      case InvalidNullException n ->
          ApiError.badRequest("bad_field", "field '" + path(n) + "' must not be null");
      case MismatchedInputException m when !m.getPath().isEmpty() ->
          ApiError.badRequest(
              "bad_field",
              "field '"
                  + path(m)
                  + "' has the wrong type: "
                  + m.getOriginalMessage().split("\n")[0]);
      case JsonProcessingException j ->
          ApiError.badRequest(
              "bad_json", "the body is not valid JSON: " + j.getOriginalMessage().split("\n")[0]);
      case SandboxLimitException l ->
          new ApiError(
              422, "limit_" + l.limit().name().toLowerCase(java.util.Locale.ROOT), l.getMessage());
      case SandboxException s -> new ApiError(422, "guest_failed", s.getMessage());
      case dev.spindle.remote.RemotePageException p ->
          new ApiError(502, "page_unavailable", p.getMessage());
      // An image the node's signature policy refuses: the client can fix it (sign, trust a key).
      case dev.spindle.image.trust.ImageSignatures.RefusedException r ->
          new ApiError(403, "untrusted_image", r.getMessage());
      case UnsupportedOperationException u -> new ApiError(501, "not_implemented", u.getMessage());
      default ->
          new ApiError(500, "internal", e.getClass().getSimpleName() + ": " + e.getMessage());
    };
  }

  static Api.ErrorBody body(ApiError e) {
    return new Api.ErrorBody(new Api.Error(e.code, e.getMessage()));
  }

  private static String where(JsonMappingException e) {
    String p = path(e);
    int dot = p.lastIndexOf('.');
    return dot < 0 ? "" : " in '" + p.substring(0, dot) + "'";
  }

  /** The field path as the client wrote it, e.g. {@code limits.timeout_ms} or {@code args[2]}. */
  private static String path(JsonMappingException e) {
    StringBuilder s = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (!s.isEmpty()) {
          s.append('.');
        }
        s.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        s.append('[').append(r.getIndex()).append(']');
      }
    }
    return s.toString();
  }
}
