#!/usr/bin/env python3
"""Tutorial one, the consumer: prints what arrives on 'hello' (automatic acknowledgement)."""
import pika

from common import parameters, Consuming

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.queue_declare(queue='hello')
consuming = Consuming(connection)

def callback(ch, method, properties, body):
    print(f" [x] Received {body.decode()}", flush=True)
    consuming.arrived()

channel.basic_consume(queue='hello', on_message_callback=callback, auto_ack=True)
print(' [*] Waiting for messages.', flush=True)
consuming.run()  # the tutorial's channel.start_consuming(), with an end
connection.close()
