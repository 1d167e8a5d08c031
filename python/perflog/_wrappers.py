# SPDX-License-Identifier: MIT
"""Carry a decorated async generator's action across its steps.

Coroutines and generators have C wrappers (python/ext/wrappers.c, where the rules are
stated); an async generator's steps are awaitables (asend/athrow), which this Python
async generator drives. The C decorator calls it with the inner async generator and a
prepared ``Action`` placed under the caller's current action. The action's START is
recorded at the first ``__anext__``/``asend`` and its END when the generator is
exhausted, raises or is closed (closed early: succeeded with the field ``closed=True``);
one never started records nothing. While a step runs the contextvar holds the action,
so actions inside the body (and asyncio tasks created there) are its children.
"""


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
