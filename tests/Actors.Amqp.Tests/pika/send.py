# Tutorial one's producer, as a pika user writes it: declare the queue, publish one message to the default exchange.
import sys
import pika

port = int(sys.argv[1])
connection = pika.BlockingConnection(pika.ConnectionParameters(host="localhost", port=port))
channel = connection.channel()
channel.queue_declare(queue="hello")
channel.basic_publish(exchange="", routing_key="hello", body="Hello World!")
print(" [x] Sent 'Hello World!'")
connection.close()
