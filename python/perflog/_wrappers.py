# SPDX-License-Identifier: MIT
"""Carry a decorated coroutine's, generator's or async generator's action across steps.

The C decorator calls these with the inner object (what the decorated function returned)
and a prepared ``Action`` placed under the caller's current action. The action's START
is recorded at the first step (``Action._resume``) and its END at the last, so:

- a coroutine's duration runs from the first time it is awaited (or sent into) until
  it returns or raises; awaits count;
- a generator's or async generator's duration runs from the first ``next()``
  (``__anext__``/``asend``) until it is exhausted, raises or is closed; the time the
  consumer spends between items counts too. Closed early (``break``, ``close()``,
  garbage collection) it is recorded as succeeded with the field ``closed=True``.

A wrapper never started records nothing.

While a step runs, the contextvar holds the action, so actions inside the body (and
asyncio tasks created there) are its children. Generators set it around each step
(the consumer runs between steps); a coroutine sets it once, which is the same thing
inside an asyncio task: the task's context is only seen by the coroutines it runs.
"""


async def wrap_coroutine(coro, act):
    token = act._resume()
    try:
        result = await coro
    except BaseException as exc:
        act._suspend(token)
        act._finish(exc)
        raise
    act._suspend(token)
    act._return(result)
    return result


def wrap_generator(gen, act):
    resume, suspend, finish = act._resume, act._suspend, act._finish
    value = None
    exc = None
    while True:
        token = resume()
        try:
            if exc is None:
                item = gen.send(value)
            else:
                pending, exc = exc, None
                item = gen.throw(pending)
        except StopIteration as stop:
            suspend(token)
            act._return(stop.value)
            return stop.value
        except BaseException as error:
            suspend(token)
            finish(error)
            raise
        suspend(token)
        try:
            value = yield item
        except GeneratorExit:
            token = resume()
            try:
                gen.close()
            except BaseException as error:
                suspend(token)
                finish(error)
                raise
            suspend(token)
            finish(None, True)
            raise
        except BaseException as error:
            exc = error
            value = None


async def wrap_async_generator(agen, act):
    resume, suspend, finish = act._resume, act._suspend, act._finish
    value = None
    exc = None
    while True:
        token = resume()
        try:
            if exc is None:
                item = await agen.asend(value)
            else:
                pending, exc = exc, None
                item = await agen.athrow(pending)
        except StopAsyncIteration:
            suspend(token)
            act._return(None)
            return
        except BaseException as error:
            suspend(token)
            finish(error)
            raise
        suspend(token)
        try:
            value = yield item
        except GeneratorExit:
            token = resume()
            try:
                await agen.aclose()
            except BaseException as error:
                suspend(token)
                finish(error)
                raise
            suspend(token)
            finish(None, True)
            raise
        except BaseException as error:
            exc = error
            value = None
