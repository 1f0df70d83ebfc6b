"""nianbao"""
