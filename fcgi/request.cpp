#include "fcgi/request.hpp"
