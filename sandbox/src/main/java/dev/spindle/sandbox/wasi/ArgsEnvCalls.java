package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code args_*} and {@code environ_*}: both are a list of NUL-terminated strings, an array of
 * pointers to them, and a sizes call, so one pair of helpers serves both.
 */
final class ArgsEnvCalls {
  private final List<String> args;
  private final List<String> env;

  ArgsEnvCalls(List<String> args, List<String> env) {
    this.args = args;
    this.env = env;
  }

  int argsSizesGet(Memory m, int countPtr, int sizePtr) {
    return sizes(m, args, countPtr, sizePtr);
  }

  int argsGet(Memory m, int pointersPtr, int bufPtr) {
    return write(m, args, pointersPtr, bufPtr);
  }

  int environSizesGet(Memory m, int countPtr, int sizePtr) {
    return sizes(m, env, countPtr, sizePtr);
  }

  int environGet(Memory m, int pointersPtr, int bufPtr) {
    return write(m, env, pointersPtr, bufPtr);
  }

  private static int sizes(Memory m, List<String> strings, int countPtr, int sizePtr) {
    int size = 0;
    for (String s : strings) {
      size += s.getBytes(StandardCharsets.UTF_8).length + 1;
    }
    m.writeI32(countPtr, strings.size());
    m.writeI32(sizePtr, size);
    return Errno.SUCCESS;
  }

  private static int write(Memory m, List<String> strings, int pointersPtr, int bufPtr) {
    int at = bufPtr;
    for (int i = 0; i < strings.size(); i++) {
      byte[] b = strings.get(i).getBytes(StandardCharsets.UTF_8);
      m.writeI32(pointersPtr + 4 * i, at);
      m.write(at, b, 0, b.length);
      m.writeByte(at + b.length, (byte) 0);
      at += b.length + 1;
    }
    return Errno.SUCCESS;
  }
}
