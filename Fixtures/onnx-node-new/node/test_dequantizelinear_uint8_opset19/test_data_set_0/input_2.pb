B
zero_pointJx